import AWSKit

/// The I/O shell of route judgement: reads what decides the routes, sends no SendCommand and no
/// SendSSHPublicKey (those permissions stay "unknown until tried").
public struct RouteReader: Sendable {
    public let aws: AWSClient
    public init(aws: AWSClient) { self.aws = aws }

    public func facts(instance: Instance, user: String?, swapRefusal: String?) async throws -> RouteFacts {
        var image = ImageLogin(user: nil, family: nil, hasInstanceConnect: false)
        if let id = instance.imageId, let text = try? await aws.ec2.describeImageText(imageId: id) {
            image = ImageLogin.of(name: text.name, description: text.description, platformDetails: text.platformDetails)
        }
        return RouteFacts(
            running: instance.state == .running, stateName: instance.state.rawValue,
            ssm: try await ssmStanding(instance.instanceId), image: image, user: user,
            reachableAddress: instance.publicIpAddress ?? instance.privateIpAddress, swapRefusal: swapRefusal)
    }

    func ssmStanding(_ instanceId: String) async throws -> SSMStanding {
        do {
            guard let node = try await aws.ssm.instanceInformation(instanceId: instanceId) else { return .unknown }
            return .listed(pingStatus: node.pingStatus, platformType: node.platformType)
        } catch let error as AWSError where error.isAccessDenied {
            return .denied(awsCode: error.code)
        } catch let error as AWSError {
            // A cloud or endpoint without Systems Manager: the route stays closed, the swap remains.
            return .unreadable(awsCode: error.code)
        }
    }
}
