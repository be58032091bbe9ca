/// The least-privilege IAM policy for the controller, built from statements so each area adds its
/// own (IAM/IAMPolicy+Doors.swift adds the recovery doors' by appending to `groups`).
/// deploy/iam-policy.json is `IAMPolicy.document(for: .init())`; a unit test keeps them equal.
public enum IAMPolicy {
    public struct Options: Sendable, Equatable {
        /// `aws`, `aws-us-gov` or `aws-cn`: the ARN prefix.
        public var partition: String
        /// `--bucket NAME`: that exact bucket, which keyrescue does not create.
        public var bucket: String?

        public static let partitions = ["aws", "aws-us-gov", "aws-cn"]

        public init(partition: String = "aws", bucket: String? = nil) {
            self.partition = partition
            self.bucket = bucket
        }
    }

    /// One condition: `"StringLike": {"s3:prefix": "keyrescue/*"}`; several values make a list
    /// (`"StringEquals": {"ec2:osuser": ["ec2-user", "ubuntu"]}`), any of which matches.
    public struct Condition: Sendable, Equatable {
        public var test: String
        public var key: String
        public var values: [String]

        public init(_ test: String, _ key: String, _ value: String) {
            self.init(test, key, values: [value])
        }

        public init(_ test: String, _ key: String, values: [String]) {
            self.test = test
            self.key = key
            self.values = values
        }
    }

    public struct Statement: Sendable, Equatable {
        public var sid: String
        public var actions: [String]
        public var resources: [String]
        public var conditions: [Condition]

        public init(_ sid: String, _ actions: [String], on resources: [String], when conditions: [Condition] = []) {
            self.sid = sid
            self.actions = actions
            self.resources = resources
            self.conditions = conditions
        }
    }

    /// Every group of statements, in the document's order.
    public static let groups: [@Sendable (Options) -> [Statement]] = [reads, surgery, s3, kms, autoScaling, doors]

    public static func statements(for options: Options) -> [Statement] { groups.flatMap { $0(options) } }

    /// The policy document as JSON, laid out like `json.dumps(indent=2)` (deploy/iam-policy.json).
    public static func document(for options: Options) -> String {
        let statements = statements(for: options).map { s -> JSONText in
            var fields: [(String, JSONText)] = [
                ("Sid", .string(s.sid)), ("Effect", .string("Allow")), ("Action", .stringOrList(s.actions)),
                ("Resource", .stringOrList(s.resources)),
            ]
            if !s.conditions.isEmpty {
                let tests = s.conditions.map(\.test).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                let byTest = tests.map { test in
                    (
                        test,
                        JSONText.object(
                            s.conditions.filter { $0.test == test }.map { ($0.key, .stringOrList($0.values)) })
                    )
                }
                fields.append(("Condition", .object(byTest)))
            }
            return .object(fields)
        }
        return JSONText.object([("Version", .string("2012-10-17")), ("Statement", .list(statements))]).render() + "\n"
    }
}
