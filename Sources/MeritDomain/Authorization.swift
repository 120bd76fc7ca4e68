/// Who may do what: the role table of the contract, intersected with the key's scopes.
public enum Authorization {
    /// The scopes a person's role (and admin flag) grants.
    ///
    /// Everyone may read the directory and their own summaries. Leads, managers and heads update performance;
    /// executives also manage it. Managers and above write summaries. People-operations admins add managing
    /// performance, the directory, keys, the event feed and acting as others.
    public static func rights(of person: Person) -> Set<Scope> {
        var rights: Set<Scope> = [.viewPerformance, .directoryRead, .summariesRead]
        switch person.role {
        case .employee: break
        case .lead: rights.insert(.updatePerformance)
        case .manager, .head: rights.formUnion([.updatePerformance, .summariesWrite])
        case .executive: rights.formUnion([.updatePerformance, .managePerformance, .summariesWrite])
        }
        if person.isAdmin {
            rights.formUnion([
                .updatePerformance, .managePerformance, .summariesWrite, .directoryWrite, .keysManage, .eventsRead,
                .actAs,
            ])
        }
        return rights
    }

    /// What `principal` may do: the key's scopes, intersected with the acting person's rights when it acts as
    /// someone.
    public static func effectiveScopes(of principal: Principal, in state: State) -> Set<Scope> {
        guard let personID = principal.personID else { return principal.scopes }
        guard let person = state.people[personID] else { return [] }
        return principal.scopes.intersection(rights(of: person))
    }

    /// Throw `permission_denied` unless `principal` has `scope`.
    public static func require(_ scope: Scope, of principal: Principal, in state: State, to action: String)
        throws(DomainError)
    {
        guard effectiveScopes(of: principal, in: state).contains(scope) else {
            throw DomainError(.permissionDenied, "You need the \(scope.rawValue) permission to \(action).")
        }
    }
}
