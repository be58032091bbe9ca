import Foundation
import Testing

@testable import AWSKit

@Suite struct ParsingTests {
    static let describeInstances = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
          <requestId>r1</requestId>
          <reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>
            <instanceId>i-0abc</instanceId><imageId>ami-1</imageId>
            <instanceState><code>16</code><name>running</name></instanceState>
            <instanceType>t3.micro</instanceType><placement><availabilityZone>eu-west-1a</availabilityZone></placement>
            <subnetId>subnet-1</subnetId><vpcId>vpc-1</vpcId><ipAddress>203.0.113.5</ipAddress>
            <rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>
            <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-1</volumeId><status>attached</status><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>
            <instanceLifecycle>spot</instanceLifecycle><spotInstanceRequestId>sir-1</spotInstanceRequestId>
            <productCodes><item><productCode>pc-1</productCode><type>marketplace</type></item></productCodes>
            <tagSet><item><key>Name</key><value>web &amp; db</value></item></tagSet>
          </item></instancesSet></item></reservationSet>
          <nextToken>page-2</nextToken>
        </DescribeInstancesResponse>
        """

    @Test func instanceFieldsTheControllerReads() async throws {
        let transport = StepTransport([StepTransport.xml(200, Self.describeInstances), instancesXML(["stopped"])])
        let instances = try await scriptedClient(transport).ec2.describeInstances(ids: ["i-0abc"])
        #expect(instances.count == 2, "both pages")
        let instance = try #require(instances.first)
        #expect(instance.instanceId == "i-0abc" && instance.state == .running && instance.instanceType == "t3.micro")
        #expect(
            instance.availabilityZone == "eu-west-1a" && instance.subnetId == "subnet-1"
                && instance.publicIpAddress == "203.0.113.5")
        #expect(instance.rootDeviceName == "/dev/xvda" && instance.rootDeviceType == "ebs")
        #expect(
            instance.blockDeviceMappings == [
                InstanceBlockDevice(
                    deviceName: "/dev/xvda", volumeId: "vol-1", status: "attached", deleteOnTermination: true)
            ])
        #expect(instance.instanceLifecycle == "spot" && instance.spotInstanceRequestId == "sir-1")
        #expect(instance.productCodes == ["pc-1"])
        #expect(instance.tags[key: "Name"] == "web & db")
        let second = String(decoding: transport.sent[1].body, as: UTF8.self)
        #expect(second.contains("NextToken=page-2"))
        #expect(
            String(decoding: transport.sent[0].body, as: UTF8.self)
                == "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0abc")
    }

    @Test func requestsAreSignedEveryAttempt() async throws {
        let transport = StepTransport([])
        _ = try await scriptedClient(transport).ec2.describeAddresses()
        let request = try #require(transport.sent.first)
        #expect(request.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") == true)
        #expect(request.header("Authorization")?.contains("/eu-west-1/ec2/aws4_request") == true)
        #expect(request.url.absoluteString == "https://ec2.eu-west-1.amazonaws.com/")
    }

    @Test func runInstancesParameters() {
        var request = RunInstancesRequest(imageId: "ami-1", instanceType: "t3.micro", clientToken: "tok")
        request.userData = "#!/bin/sh\necho hi"
        request.instanceInitiatedShutdownBehavior = "terminate"
        request.blockDeviceMappings = [.init(deviceName: "/dev/xvda", deleteOnTermination: true)]
        request.tags = [Tag("keyrescue:run", "r1")]
        let pairs = Dictionary(request.parameters.pairs, uniquingKeysWith: { a, _ in a })
        #expect(pairs["UserData"] == Data("#!/bin/sh\necho hi".utf8).base64EncodedString())
        #expect(pairs["ClientToken"] == "tok")
        #expect(pairs["InstanceInitiatedShutdownBehavior"] == "terminate")
        #expect(pairs["BlockDeviceMapping.1.Ebs.DeleteOnTermination"] == "true")
        #expect(pairs["MetadataOptions.HttpTokens"] == "required")
        #expect(
            pairs["TagSpecification.1.ResourceType"] == "instance"
                && pairs["TagSpecification.2.ResourceType"] == "volume")
        #expect(pairs["TagSpecification.1.Tag.1.Key"] == "keyrescue:run")
    }

    @Test func formEncodingUsesAWSPercentEncoding() {
        var params = QueryParameters()
        params.set("Filter.1.Value.1", "a b+c/d~e*")
        let body = String(decoding: params.formEncoded(action: "X", version: "1"), as: UTF8.self)
        #expect(body == "Action=X&Version=1&Filter.1.Value.1=a+b%2Bc%2Fd~e%2A")
    }

    @Test func consoleOutputIsDecoded() async throws {
        let text = "Linux version 6.1\nkeyrescue: ok"
        let transport = StepTransport([
            StepTransport.xml(
                200,
                "<GetConsoleOutputResponse><output>\(Data(text.utf8).base64EncodedString())</output></GetConsoleOutputResponse>"
            )
        ])
        #expect(try await scriptedClient(transport).ec2.getConsoleOutput(instanceId: "i-1", latest: true) == text)
        #expect(String(decoding: transport.sent[0].body, as: UTF8.self).contains("Latest=true"))
    }

    @Test func dryRunProbe() async throws {
        let granted = StepTransport([StepTransport.ec2Error("DryRunOperation", status: 412)])
        let ec2 = scriptedClient(granted).ec2
        #expect(
            try await ec2.probePermission { _ = try await ec2.stopInstances(ids: ["i-1"], dryRun: true) } == .granted)
        let denied = StepTransport([StepTransport.ec2Error("UnauthorizedOperation", status: 403)])
        let ec2b = scriptedClient(denied).ec2
        let result = try await ec2b.probePermission { _ = try await ec2b.stopInstances(ids: ["i-1"], dryRun: true) }
        guard case .denied(let error) = result else { Issue.record("expected denied"); return }
        #expect(error.iamAction == "ec2:StopInstances")
    }

    @Test func s3AddressingAndLocationConstraint() async throws {
        let transport = StepTransport([])
        let s3 = scriptedClient(transport).s3
        try await s3.createBucket("my-bucket")
        let request = try #require(transport.sent.first)
        #expect(request.url.absoluteString == "https://my-bucket.s3.eu-west-1.amazonaws.com/")
        #expect(
            String(decoding: request.body, as: UTF8.self).contains("<LocationConstraint>eu-west-1</LocationConstraint>")
        )
        #expect(
            s3.url(bucket: "b", key: "dir/a b.txt").absoluteString
                == "https://b.s3.eu-west-1.amazonaws.com/dir/a%20b.txt")
    }

    @Test func listObjectsFollowsContinuationTokens() async throws {
        let page1 = """
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated>
            <Contents><Key>keyrescue/kr-1/keyrescue-agent</Key><LastModified>2026-11-24T10:00:00.000Z</LastModified><Size>16</Size></Contents>
            <NextContinuationToken>tok/2=</NextContinuationToken></ListBucketResult>
            """
        let page2 = """
            <ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>keyrescue/kr-2/report.json</Key><LastModified>2026-11-25T08:30:00Z</LastModified><Size>2</Size></Contents>
            </ListBucketResult>
            """
        let transport = StepTransport([StepTransport.xml(200, page1), StepTransport.xml(200, page2)])
        let objects = try await scriptedClient(transport).s3.listObjects("b", prefix: "keyrescue/")
        #expect(objects.map(\.key) == ["keyrescue/kr-1/keyrescue-agent", "keyrescue/kr-2/report.json"])
        #expect(objects[0].size == 16 && objects[0].lastModified == Date(timeIntervalSince1970: 1_795_514_400))
        #expect(transport.sent.count == 2)
        #expect(transport.sent[0].url.query?.contains("list-type=2&prefix=keyrescue%2F") == true)
        #expect(transport.sent[1].url.query?.contains("continuation-token=tok%2F2%3D") == true)
    }
}
