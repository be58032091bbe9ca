import AWSKit
import AWSTestSupport
import Foundation
import Testing

/// Not a test of speed (no timed assertion): the measuring half of `scripts/bench aws`, which
/// starts moto and sets KEYRESCUE_BENCH_MOTO_URL. Prints `BENCH name value` lines.
@Suite(
    .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["KEYRESCUE_BENCH_MOTO_URL"] != nil,
        "run by scripts/bench aws (KEYRESCUE_BENCH_MOTO_URL)"))
struct AWSBenchmark {
    @Test func signaturesPerSecond() throws {
        let signer = SigV4Signer(
            credentials: Credentials(
                accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "ec2")
        let url = try #require(URL(string: "https://ec2.us-east-1.amazonaws.com/"))
        let request = HTTPRequest(
            method: "POST", url: url, headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")],
            body: Data("Action=DescribeInstances&Version=2016-11-15".utf8))
        let count = 20000
        let start = Date()
        var last = ""
        for i in 0..<count {
            last =
                signer.signHeaders(
                    request, date: Date(timeIntervalSince1970: 1_700_000_000 + Double(i)), payload: .signed
                ).request
                .headers.first { $0.name == "Authorization" }?.value ?? ""
        }
        let seconds = Date().timeIntervalSince(start)
        #expect(last.contains("Signature="))
        print("BENCH signatures_per_second \(Int(Double(count) / seconds))")
    }

    @Test func describeInstancesRoundTrip() async throws {
        let url = try #require(
            ProcessInfo.processInfo.environment["KEYRESCUE_BENCH_MOTO_URL"].flatMap(URL.init(string:)))
        let aws = AWSClient(
            region: "us-east-1", credentials: MotoServer.anyCredentials, endpoint: { _ in url },
            transport: CurlTransport())
        _ = try await aws.ec2.describeInstances()  // warm the connection, as a CLI run cannot
        var times: [Double] = []
        for _ in 0..<21 {
            let start = Date()
            _ = try await aws.ec2.describeInstances()
            times.append(Date().timeIntervalSince(start))
        }
        times.sort()
        print("BENCH describe_instances_awskit_median_ms \(String(format: "%.1f", times[times.count / 2] * 1000))")
        #expect(times.count == 21)
    }
}
