import ArgumentParser
import RescueController

struct IAMPolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iam-policy",
        abstract: "Print the least-privilege IAM policy keyrescue needs (deploy/iam-policy.json is the aws one).")
    @Option(help: "The partition of the ARNs: aws, aws-us-gov or aws-cn.") var partition = "aws"
    @Option(help: "The exact bucket you pass to reset --bucket (default: keyrescue-* buckets it creates).")
    var bucket: String?

    func validate() throws {
        guard IAMPolicy.Options.partitions.contains(partition) else {
            throw ValidationError("--partition is one of \(IAMPolicy.Options.partitions.joined(separator: ", "))")
        }
        if let bucket, bucket.isEmpty || bucket.contains("/") || bucket.contains("*") {
            throw ValidationError("--bucket takes a bucket name, without / or *")
        }
    }

    func run() throws {
        say(IAMPolicy.document(for: .init(partition: partition, bucket: bucket)), terminator: "")
    }
}
