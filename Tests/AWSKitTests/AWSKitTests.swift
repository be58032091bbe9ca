import AWSKit
import Testing

@Test func userAgentNamesTheProject() {
    #expect(AWSKit.userAgent.hasPrefix("keyrescue/"))
}
