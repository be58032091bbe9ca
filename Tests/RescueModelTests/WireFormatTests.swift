import RescueModel
import Testing

@Test func wireFormatVersionIsOne() {
    #expect(WireFormat.version == 1)
}
