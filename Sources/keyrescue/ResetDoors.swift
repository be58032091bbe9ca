import AWSKit
import ArgumentParser
import Foundation
import RescueController

extension RescueMethod: ExpressibleByArgument {}

extension ResetCommand {
    /// The door routes `--method` allows in front of the swap; nil for `--method swap`.
    func doorSequence(_ client: AWSClient) -> DoorSequence? {
        guard options.method != .swap else { return nil }
        let options = options
        let doorJournal = Self.doorJournal(client)
        return DoorSequence(
            method: options.method,
            judge: { plan in
                RouteJudgement.report(
                    try await Self.routeFacts(client, plan, user: options.user), method: options.method)
            },
            attempt: { route, plan in
                try await doorJournal.attempt(route, plan) { try await Self.door(route, plan, client, options) }
            })
    }

    /// The journal and the tags of door runs (reset, rollback).
    static func doorJournal(_ client: AWSClient) -> DoorRunJournal {
        DoorRunJournal(
            journal: JournalStore(directory: JournalStore.defaultDirectory()),
            tag: { try await client.ec2.createTags(resources: [$0], tags: $1) },
            untag: { try await client.ec2.deleteTags(resources: [$0], keys: $1) })
    }

    /// One door route against AWS.
    static func door(_ route: RescueRoute, _ plan: RescuePlan, _ client: AWSClient, _ options: ResetOptions)
        async throws -> DoorAttempt
    {
        switch route {
        case .ssm:
            return try await SSMRoute(
                ssm: client.ssm,
                agentURL: { plan, seconds in try await DoorDelivery.agentURL(plan, client, seconds) },
                timeoutSeconds: options.routeTimeout
            ).attempt(plan)
        case .instanceConnect:
            let facts = try await Self.routeFacts(client, plan, user: options.user)
            guard let user = facts.loginUser, let address = facts.reachableAddress else {
                return .fellThrough("the login user or the address is no longer known")
            }
            return try await InstanceConnectRoute(
                push: {
                    try await client.instanceConnect.sendSSHPublicKey(instanceId: $0, osUser: $1, publicKey: $2)
                },
                user: user, address: address, sshOptions: options.sshOptions,
                timeoutSeconds: options.routeTimeout
            ).attempt(plan)
        case .swap:
            return .fellThrough("the swap is not a door")
        }
    }

    /// What decides the routes, read now (no SendCommand, no SendSSHPublicKey).
    static func routeFacts(_ client: AWSClient, _ plan: RescuePlan, user: String?) async throws -> RouteFacts {
        guard let instance = try await client.ec2.describeInstances(ids: [plan.target.instanceID]).first else {
            throw ControllerError.instanceNotFound(plan.target.instanceID, region: client.region)
        }
        return try await RouteReader(aws: client).facts(instance: instance, user: user, swapRefusal: nil)
    }
}
