/// Commands on the organization.
extension State {
    /// The changes that create the organization and its first admin key (`merit init`).
    public func initializeOrganization(
        id: ID<Organization>, name: String, adminKey: ID<APIKey>, secretHash: String, now: Timestamp
    ) throws(DomainError) -> Changed<Organization> {
        if let organization {
            throw DomainError(
                .conflict,
                "This data directory already holds the organization '\(organization.name)' (\(organization.id)).")
        }
        let name = try Validate.name(name, field: "org")
        let organization = Organization(id: id, name: name, settings: .init(), createdAt: now, updatedAt: now)
        let key = APIKey(
            id: adminKey, name: "admin", scopes: Scope.allCases, personID: nil, secretHash: secretHash, createdAt: now,
            revokedAt: nil)
        return Changed(organization, [Change(.organizationCreated, organization), Change(.keyCreated, key)])
    }

    /// The organization, which any principal may read.
    public func readOrganization() throws(DomainError) -> Organization {
        guard let organization else {
            throw DomainError(.notFound, "This data directory holds no organization; create one with merit init.")
        }
        return organization
    }

    /// Update the organization's name or settings (`directory:write`); nothing is recorded when nothing changes.
    public func updateOrganization(
        name: String?, feedbackMinimumResponses: Int?, summaryReviewWorkflow: Bool?, now: Timestamp,
        by principal: Principal
    ) throws(DomainError) -> Changed<Organization> {
        try Authorization.require(.directoryWrite, of: principal, in: self, to: "change the organization")
        var organization = try readOrganization()
        let before = organization
        if let name { organization.name = try Validate.name(name, field: "name") }
        if let minimum = feedbackMinimumResponses {
            guard (1...100).contains(minimum) else {
                throw DomainError.invalid("settings.feedback_min_responses", "must be between 1 and 100")
            }
            organization.settings.feedbackMinimumResponses = minimum
        }
        if let workflow = summaryReviewWorkflow { organization.settings.summaryReviewWorkflow = workflow }
        guard organization != before else { return Changed(before, []) }
        organization.updatedAt = now
        return Changed(.organizationUpdated, organization)
    }
}
