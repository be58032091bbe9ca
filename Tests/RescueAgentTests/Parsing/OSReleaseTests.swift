import RescueAgent
import Testing

@Suite struct OSReleaseTests {
    @Test func ubuntu() {
        let text = """
            PRETTY_NAME="Ubuntu 22.04.4 LTS"
            NAME="Ubuntu"
            VERSION_ID="22.04"
            ID=ubuntu
            ID_LIKE=debian
            """
        let distro = OSRelease.distro(OSRelease.parse(text))
        #expect(distro.id == "ubuntu" && distro.versionID == "22.04" && distro.prettyName == "Ubuntu 22.04.4 LTS")
    }

    @Test func quotesEscapesAndOddLines() {
        let text = """
            # comment
            ID="amzn"\r
            VERSION_ID='2023'
            PRETTY_NAME="Say \\"hi\\" \\$HOME \\\\ \\n"
              NAME=Spaced
            BROKEN="unterminated
            TRAILING="a"b
            bad key=1
            UNQUOTED=two words
            =novalue
            EMPTY=
            """
        let fields = OSRelease.parse(text)
        #expect(fields["ID"] == "amzn")
        #expect(fields["VERSION_ID"] == "2023")
        #expect(fields["PRETTY_NAME"] == #"Say "hi" $HOME \ \n"#)
        #expect(fields["NAME"] == "Spaced")
        #expect(fields["BROKEN"] == nil && fields["TRAILING"] == nil && fields["UNQUOTED"] == nil)
        #expect(fields["EMPTY"] == "")
        #expect(fields.count == 5)
    }

    @Test func missingIDMeansLinux() {
        #expect(OSRelease.distro([:]).id == "linux")
        #expect(OSRelease.distro(["ID": "RHEL"]).id == "rhel")
    }
}
