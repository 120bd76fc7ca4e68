import MeritDomain
import MeritJSON

/// `summaries.*`: managers' narrative summaries: rich-text bodies, the lifecycle, the employee's feedback, and a
/// list with cursors, filters, sorts and expansion.
enum SummaryMethods {
    static let all: [Method] = [list, get, create, update, submit, approve, share, archive, feedback]

    static let list = Method("summaries.list", access: .authenticated) { server, params, result in
        var query = SummaryQuery()
        let limit = try params.optional("limit", as: Int.self) ?? 50
        guard (1...100).contains(limit) else { throw DomainError.invalid("limit", "must be between 1 and 100") }
        query.limit = limit
        if let sort = try params.optional("sort", as: String.self) {
            query.sort = try parseEnumeration(sort, field: "sort")
        }
        if var filter = try params.nested("filter") {
            query.employeeID = try filter.optionalID("employee_id")
            query.managerID = try filter.optionalID("manager_id")
            switch try filter.optional("status", as: JSON.self) {
            case .string(let text)?:
                query.statuses = [try parseEnumeration(text, as: Summary.Status.self, field: "filter.status")]
            case .array(let values)?:
                query.statuses = try values.enumerated().map { offset, value in
                    guard case .string(let text) = value else {
                        throw DomainError.invalid("filter.status[\(offset)]", "must be a string")
                    }
                    return try parseEnumeration(text, as: Summary.Status.self, field: "filter.status[\(offset)]")
                }
            case nil: break
            case let other?:
                throw DomainError.invalid("filter.status", "must be a status or a list of them, not \(other.kindName)")
            }
            if var start = try filter.nested("period_start") {
                query.periodStartFrom = try start.optionalDay("gte")
                try start.finish()
            }
            if var end = try filter.nested("period_end") {
                query.periodEndFrom = try end.optionalDay("gte")
                query.periodEndUntil = try end.optionalDay("lte")
                try end.finish()
            }
            try filter.finish()
        }
        let expansion = try Expansion(&params)
        let cursorText = try params.optional("cursor", as: String.self)
        try params.finish()
        let position = try cursorText.map { text throws(DomainError) in try SummaryCursor.decode(text, for: query) }
        let principal = server.requestPrincipal
        try server.withState { state in
            let (summaries, next) = try state.listSummaries(query, after: position, by: principal)
            result.writeRaw(#"{"data":["#)
            for (offset, summary) in summaries.enumerated() {
                if offset > 0 { result.writeRaw(",") }
                expansion.write(summary, in: state, for: principal, to: &result)
            }
            result.writeRaw(#"],"next_cursor":"#)
            if let next { result.write(SummaryCursor.encode(next, for: query)) } else { result.writeRaw("null") }
            result.writeRaw("}")
        }
    }

    static let get = Method("summaries.get", access: .authenticated) { server, params, result in
        let id: ID<Summary> = try params.id("id")
        let expansion = try Expansion(&params)
        try params.finish()
        let principal = server.requestPrincipal
        try server.withState { state in
            expansion.write(try state.readSummary(id, by: principal), in: state, for: principal, to: &result)
        }
    }

    static let create = Method("summaries.create", access: .authenticated, compactParams: ["body"]) {
        server, params, result in
        let employee: ID<Person> = try params.id("employee_id")
        let manager: ID<Person>? = try params.optionalID("manager_id")
        let periodStart = try params.day("period_start")
        let periodEnd = try params.day("period_end")
        let body = try body(try params.required("body", as: JSON.self))
        let observations: [ID<Observation>] = try params.optionalIDs("included_observation_ids") ?? []
        let objectives: [ID<Objective>] = try params.optionalIDs("included_objective_ids") ?? []
        try params.finish()
        let engine = server.engine
        try server.record { state in
            try state.createSummary(
                id: engine.newID(), employeeID: employee, managerID: manager, periodStart: periodStart,
                periodEnd: periodEnd, body: body, observationIDs: observations, objectiveIDs: objectives,
                now: engine.now, by: server.requestPrincipal)
        }.write(to: &result)
    }

    static let update = Method("summaries.update", access: .authenticated, compactParams: ["body"]) {
        server, params, result in
        params.refusesNull = true
        let id: ID<Summary> = try params.id("id")
        for fixed in ["employee_id", "manager_id"] where try params.optional(fixed, as: JSON.self) != nil {
            throw DomainError.invalid(fixed, "cannot be changed after creation; create a new summary instead")
        }
        var edit = SummaryEdit()
        edit.periodStart = try params.optionalDay("period_start")
        edit.periodEnd = try params.optionalDay("period_end")
        edit.body = try params.optional("body", as: JSON.self).map { try body($0) }
        edit.includedObservationIDs = try params.optionalIDs("included_observation_ids")
        edit.includedObjectiveIDs = try params.optionalIDs("included_objective_ids")
        try params.finish()
        let engine = server.engine
        try server.record { state in
            try state.updateSummary(id: id, edit, now: engine.now, by: server.requestPrincipal)
        }.write(to: &result)
    }

    /// A body from its JSON, written as compact JSON: what the 256 KB limit counts, and what is kept (as it came
    /// when the parser kept it so: `compactParams`). Its shape is checked now; the command holds it to the grammar.
    static func body(_ value: JSON) throws(DomainError) -> RichText.Candidate {
        try RichText.Candidate(reading: value.serialized(), path: "body")
    }

    static let submit = transition("summaries.submit") { _ in .submit }
    static let approve = transition("summaries.approve") { _ in .approve }
    static let archive = transition("summaries.archive") { _ in .archive }
    static let share = transition("summaries.share") { params in
        let notify = try params.optional("notify_employee", as: Bool.self) ?? true
        let message = try params.optional("message", as: String.self)
        return .share(notifyEmployee: notify, message: message)
    }

    /// A method moving a summary through its lifecycle, reading what the action needs from its params.
    static func transition(_ name: String, _ action: @escaping @Sendable (inout FieldReader) throws -> SummaryAction)
        -> Method
    {
        Method(name, access: .authenticated) { server, params, result in
            let id: ID<Summary> = try params.id("id")
            let action = try action(&params)
            try params.finish()
            let engine = server.engine
            try server.record { state in
                try state.transitionSummary(
                    id: id, action, now: engine.now, notificationID: engine.newID(), by: server.requestPrincipal)
            }.write(to: &result)
        }
    }

    static let feedback = Method("summaries.feedback", access: .authenticated) { server, params, result in
        let id: ID<Summary> = try params.id("id")
        let kind = try params.enumeration("kind", Summary.Feedback.Kind.self)
        let comment = try params.optional("comment", as: String.self)
        try params.finish()
        let engine = server.engine
        let (summary, feedback) = try server.record { state in
            try state.addSummaryFeedback(
                id: id, kind: kind, comment: comment, now: engine.now, feedbackID: engine.newID(),
                notificationID: engine.newID(), by: server.requestPrincipal)
        }
        result.writeRaw(#"{"summary":"#)
        summary.write(to: &result)
        result.writeRaw(#","feedback":"#)
        feedback.write(to: &result)
        result.writeRaw("}")
    }
}

/// `expand`: the objects to add beside the ids they name.
struct Expansion {
    enum Field: String, CaseIterable {
        case employee, manager, observations, objectives
    }

    var fields: Set<Field> = []

    init(_ params: inout FieldReader) throws {
        guard let names = try params.optional("expand", as: [String].self) else { return }
        for (offset, name) in names.enumerated() {
            guard let field = Field(rawValue: name) else {
                throw DomainError.invalid(
                    "expand[\(offset)]", "is '\(name)', which is not one of employee, manager, observations, objectives"
                )
            }
            fields.insert(field)
        }
    }

    /// Write the summary with the objects asked for after its members (the ids stay); cited records the principal
    /// may not read are left out of the objects.
    func write(_ summary: Summary, in state: State, for principal: Principal, to writer: inout JSONWriter) {
        summary.write(to: &writer)
        guard !fields.isEmpty else { return }
        // The objects are members of the summary's object: they take the place of its closing brace.
        writer.bytes.removeLast()
        if fields.contains(.employee) {
            writer.writeRaw(#","employee":"#)
            Self.write(state.people[summary.employeeID], to: &writer)
        }
        if fields.contains(.manager) {
            writer.writeRaw(#","manager":"#)
            Self.write(state.people[summary.managerID], to: &writer)
        }
        if fields.contains(.observations) {
            writer.writeRaw(#","observations":"#)
            Self.write(
                summary.includedObservationIDs.compactMap { try? state.readObservation($0, by: principal) }, to: &writer
            )
        }
        if fields.contains(.objectives) {
            writer.writeRaw(#","objectives":"#)
            Self.write(
                summary.includedObjectiveIDs.compactMap { try? state.readObjective($0, by: principal) }, to: &writer)
        }
        writer.writeRaw("}")
    }

    private static func write(_ record: (some FieldRecord)?, to writer: inout JSONWriter) {
        if let record { record.write(to: &writer) } else { writer.writeRaw("null") }
    }

    private static func write(_ records: [some FieldRecord], to writer: inout JSONWriter) {
        writer.writeRaw("[")
        for (offset, record) in records.enumerated() {
            if offset > 0 { writer.writeRaw(",") }
            record.write(to: &writer)
        }
        writer.writeRaw("]")
    }
}

/// Opaque cursors of `summaries.list`: the position of a walk, bound to the sort and filters it was made for.
enum SummaryCursor {
    static func encode(_ position: SummaryPosition, for query: SummaryQuery) -> String {
        var bytes: [UInt8] = []
        func append(_ value: UInt64) {
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        append(UInt64(bitPattern: position.sequence))
        append(UInt64(bitPattern: position.key))
        append(position.id.high)
        append(position.id.low)
        append(fingerprint(query))
        return "s1." + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    static func decode(_ text: String, for query: SummaryQuery) throws(DomainError) -> SummaryPosition {
        let invalid = DomainError.invalid(
            "cursor", "is not a cursor this server returned for this sort and these filters")
        guard text.hasPrefix("s1."), text.utf8.count == 3 + 80 else { throw invalid }
        let digits = Array(text.utf8.dropFirst(3))
        var values: [UInt64] = []
        for word in 0..<5 {
            var value: UInt64 = 0
            for index in (word * 16)..<(word * 16 + 16) {
                guard let digit = hexValue(digits[index]) else { throw invalid }
                value = value << 4 | UInt64(digit)
            }
            values.append(value)
        }
        guard values[4] == fingerprint(query) else { throw invalid }
        return SummaryPosition(
            sequence: Int64(bitPattern: values[0]), key: Int64(bitPattern: values[1]),
            id: ID(high: values[2], low: values[3]))
    }

    /// FNV-1a of the sort and filters, so that a cursor is refused by a different query.
    static func fingerprint(_ query: SummaryQuery) -> UInt64 {
        let text = [
            query.sort.rawValue, query.employeeID?.text ?? "", query.managerID?.text ?? "",
            (query.statuses ?? []).map(\.rawValue).joined(separator: ","), query.periodStartFrom?.description ?? "",
            query.periodEndFrom?.description ?? "", query.periodEndUntil?.description ?? "",
        ].joined(separator: "|")
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0100_0000_01B3
        }
        return hash
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Parse a sort's name.
private func parseEnumeration(_ text: String, field: String) throws(DomainError) -> SummarySort {
    guard let sort = SummarySort(rawValue: text) else {
        let names = SummarySort.allCases.map(\.rawValue).joined(separator: ", ")
        throw DomainError.invalid(field, "must be one of \(names), not '\(text)'")
    }
    return sort
}

extension Summary: ServedResource {
    static var methods: [Method] { SummaryMethods.all }

    /// The summary; for `summary.feedback_submitted`, with the feedback posted as `feedback`.
    func feedData(for kind: ChangeKind, in state: State) -> JSON {
        guard kind == .summaryFeedbackSubmitted, let posted = feedback.last, case .object(var object) = json else {
            return json
        }
        object.append("feedback", posted.json)
        return .object(object)
    }
}
