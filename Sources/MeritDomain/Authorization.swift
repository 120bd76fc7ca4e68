/// Who may do what: the role table of the contract, intersected with the key's scopes.
public enum Authorization {
    /// The scopes a person's role (and admin flag) grants.
    ///
    /// Everyone may read the directory and their own summaries. Leads, managers and heads update performance;
    /// executives also manage it. Managers and above write summaries. People-operations admins add managing
    /// performance, the directory, keys, the event feed and acting as others.
    public static func rights(of person: Person) -> Set<Scope> {
        Set(Scope.allCases.lazy.filter { grants(person, $0) })
    }

    /// Whether `person`'s role (and admin flag) grants `scope`: the role table, which `rights(of:)` lists.
    public static func grants(_ person: Person, _ scope: Scope) -> Bool {
        if person.isAdmin { return true }
        switch scope {
        case .viewPerformance, .directoryRead, .summariesRead: return true
        case .updatePerformance: return person.role != .employee
        case .summariesWrite: return person.role != .employee && person.role != .lead
        case .managePerformance: return person.role == .executive
        case .directoryWrite, .keysManage, .eventsRead, .actAs: return false
        }
    }

    /// What `principal` may do: the key's scopes, intersected with the acting person's rights when it acts as
    /// someone.
    public static func effectiveScopes(of principal: Principal, in state: State) -> Set<Scope> {
        guard let personID = principal.personID else { return principal.scopes }
        guard let person = state.people[personID] else { return [] }
        return principal.scopes.filter { grants(person, $0) }
    }

    /// Whether `principal` may do what `scope` allows (`effectiveScopes` holds it), found without building a set:
    /// every request asks.
    public static func allows(_ scope: Scope, to principal: Principal, in state: State) -> Bool {
        guard principal.has(scope) else { return false }
        guard let personID = principal.personID else { return true }
        guard let person = state.people[personID] else { return false }
        return grants(person, scope)
    }

    /// Throw `permission_denied` unless `principal` has `scope`.
    public static func require(_ scope: Scope, of principal: Principal, in state: State, to action: String)
        throws(DomainError)
    {
        guard allows(scope, to: principal, in: state) else {
            throw DomainError(.permissionDenied, "You need the \(scope.rawValue) permission to \(action).")
        }
    }
}

extension Authorization {
    /// Whether `principal` sees `target`'s performance records (the "sees" column of the contract's role table):
    /// integrations, executives and admins see everyone; a lead sees themself and their squad; a manager or head
    /// sees themself and everyone below them in the manager chain; an employee sees themself.
    public static func canSee(_ target: ID<Person>, by principal: Principal, in state: State) -> Bool {
        guard let actorID = principal.personID else { return true }
        guard let actor = state.people[actorID] else { return false }
        return canSee(target, byPerson: actor, in: state)
    }

    /// Whether `actor` sees `target`'s performance records, by role alone.
    public static func canSee(_ target: ID<Person>, byPerson actor: Person, in state: State) -> Bool {
        guard let person = state.people[target] else { return false }
        if actor.isAdmin || actor.role == .executive || actor.id == person.id { return true }
        switch actor.role {
        case .lead: return actor.squad != nil && actor.squad == person.squad
        case .manager, .head: return isBelow(person.id, actor.id, in: state)
        default: return false
        }
    }

    /// Whether `principal` may write about `target` as their manager: integrations, executives and admins for
    /// anyone but themselves; managers and heads for the people below them in the chain.
    public static func manages(_ target: ID<Person>, principal: Principal, in state: State) -> Bool {
        guard let actorID = principal.personID else { return true }
        guard actorID != target, let actor = state.people[actorID] else { return false }
        if actor.isAdmin || actor.role == .executive { return true }
        return (actor.role == .manager || actor.role == .head) && isBelow(target, actorID, in: state)
    }

    /// Whether `person` reports to `manager`, directly or through others.
    public static func isBelow(_ person: ID<Person>, _ manager: ID<Person>, in state: State) -> Bool {
        var current = state.people[person]?.managerID
        var steps = 0
        while let id = current, steps <= state.people.count {
            if id == manager { return true }
            current = state.people[id]?.managerID
            steps += 1
        }
        return false
    }

    /// Everyone below `manager` in the chain, breadth first, using the direct-reports index.
    public static func everyoneBelow(_ manager: ID<Person>, in state: State) -> [ID<Person>] {
        // Breadth first: the result is its own queue.
        var result = Array(state.directReports(of: manager))
        var index = 0
        while index < result.count {
            result += state.directReports(of: result[index])
            index += 1
        }
        return result
    }
}

extension Authorization {
    /// Whether `principal` may read a record about `employee`: their managers (and executives, admins and
    /// integrations), and, for records that are the employee's own such as objectives, the employee.
    public static func canRead(_ employee: ID<Person>, by principal: Principal, in state: State, ownRecords: Bool)
        -> Bool
    {
        if ownRecords && principal.personID == employee { return true }
        return manages(employee, principal: principal, in: state)
    }
}

/// The people whose performance records a principal sees: everyone, or a list.
public enum PeopleInScope: Sendable, Equatable {
    case everyone
    case only([ID<Person>])

    /// Whether `person` is in it.
    public func contains(_ person: ID<Person>) -> Bool {
        switch self {
        case .everyone: true
        case .only(let people): people.contains(person)
        }
    }
}

extension Authorization {
    /// Who `principal` sees (the "sees" column of the contract's role table), enumerated through the indexes
    /// rather than by testing everyone: integrations, executives and admins see everyone; a lead themself and their
    /// squad; a manager or head themself and everyone below them; an employee themself.
    public static func peopleInScope(of principal: Principal, in state: State) -> PeopleInScope {
        guard let actorID = principal.personID else { return .everyone }
        guard let actor = state.people[actorID] else { return .only([]) }
        if actor.isAdmin || actor.role == .executive { return .everyone }
        switch actor.role {
        case .lead:
            guard let squad = actor.squad else { return .only([actorID]) }
            var members = Array(state.people.indexes.squadMembers[squad])
            if !members.contains(actorID) { members.append(actorID) }
            return .only(members)
        case .manager, .head: return .only([actorID] + everyoneBelow(actorID, in: state))
        default: return .only([actorID])
        }
    }

    /// Whether `principal` may change `subject`'s performance records: `update:performance` and the subject in
    /// scope.
    public static func mayUpdate(_ subject: ID<Person>, by principal: Principal, in state: State) -> Bool {
        allows(.updatePerformance, to: principal, in: state) && canSee(subject, by: principal, in: state)
    }
}

extension State {
    /// `permission_denied` unless `principal` may read the event feed (`events:read`): every event of the
    /// organization, so admins and integrations only.
    public func authorizeEventFeed(by principal: Principal, to action: String) throws(DomainError) {
        try Authorization.require(.eventsRead, of: principal, in: self, to: action)
    }
}
