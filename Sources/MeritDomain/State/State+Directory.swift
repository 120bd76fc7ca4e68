/// Queries on the directory: keys, people and templates.
extension State {
    /// The active key whose secret hashes to `secretHash`.
    public func activeKey(secretHash: String) -> APIKey? {
        guard let id = keys.indexes.bySecretHash[secretHash], let key = keys[id], key.isActive else { return nil }
        return key
    }

    /// The person with `email` (compared without case).
    public func person(email: String) -> Person? {
        people.indexes.byEmail[Person.Indexes.emailKey(email)].flatMap { people[$0] }
    }

    /// Changes whenever a key is created, changed or removed (also by a rollback), so that what is derived from a
    /// key can be kept until it does.
    public var keysRevision: Int { keys.revision }

    /// The direct reports of `manager`, in id order.
    public func directReports(of manager: ID<Person>) -> SortedIDs<Person> {
        people.indexes.directReports[manager]
    }
}
