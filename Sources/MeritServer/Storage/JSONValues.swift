import MeritDomain
import MeritJSON

extension JSON {
    /// A timestamp in the contract's form, `2026-04-01T09:12:00.000Z`.
    init(_ timestamp: Timestamp) { self = .string(timestamp.description) }
    /// A timestamp, or `null`.
    init(_ timestamp: Timestamp?) { self = timestamp.map { .string($0.description) } ?? .null }
    /// An id's wire form.
    init<Entity>(_ id: ID<Entity>) { self = .string(id.text) }
    /// An id's wire form, or `null`.
    init<Entity>(_ id: ID<Entity>?) { self = id.map { .string($0.text) } ?? .null }
}

extension StagedJSON {
    /// An id's text form, quoted, written without making a string.
    mutating func id<Entity>(_ id: ID<Entity>) {
        raw(maximumCount: ID<Entity>.textLength + 2) { target in
            target[0] = UInt8(ascii: "\"")
            id.writeText(to: target + 1)
            target[ID<Entity>.textLength + 1] = UInt8(ascii: "\"")
            return ID<Entity>.textLength + 2
        }
    }

    /// An id's text form, quoted, or `null`.
    mutating func id<Entity>(orNull id: ID<Entity>?) {
        if let id { self.id(id) } else { raw("null") }
    }

    /// Write `timestamp` quoted at `target`; returns the bytes written.
    private static func timestampText(_ timestamp: Timestamp, at target: UnsafeMutablePointer<UInt8>) -> Int {
        target[0] = UInt8(ascii: "\"")
        let count = timestamp.writeText(to: target + 1)
        target[count + 1] = UInt8(ascii: "\"")
        return count + 2
    }

    /// A timestamp in the contract's form, quoted, written without making a string.
    mutating func timestamp(_ timestamp: Timestamp) {
        raw(maximumCount: Timestamp.maximumTextLength + 2) { Self.timestampText(timestamp, at: $0) }
    }
}

extension JSONObject {
    /// The object with `members` added right after the member `key` (at the end when there is none), in order:
    /// how a resource's JSON gains the names the API shows beside ids.
    func inserting(_ members: [(String, JSON)], after key: String) -> JSONObject {
        var result = JSONObject()
        result.reserveCapacity(count + members.count)
        var inserted = false
        for (name, value) in self {
            result.append(name, value)
            if !inserted && name == key {
                for (added, addedValue) in members { result.append(added, addedValue) }
                inserted = true
            }
        }
        if !inserted {
            for (added, addedValue) in members { result.append(added, addedValue) }
        }
        return result
    }
}
