import RescueController
import Testing

@Test func controllerUsesAWSKitUserAgent() {
    #expect(Controller.userAgent.hasPrefix("keyrescue/"))
}
