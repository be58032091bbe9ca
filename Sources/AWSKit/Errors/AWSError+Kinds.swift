/// What an error answer means, as predicates beside `isAccessDenied`: callers ask "is this a
/// NotFound?" instead of comparing codes or HTTP statuses themselves.
extension AWSError {
    /// The resource does not exist (or not yet: EC2 is eventually consistent right after a
    /// create). EC2 says `Invalid<Thing>ID.NotFound` / `Invalid<Thing>.NotFound`; S3 answers 404.
    public var isNotFound: Bool {
        code.hasSuffix(".NotFound") || code == "NoSuchKey" || code == "NoSuchBucket" || code == "NotFound"
            || (service == "s3" && httpStatus == 404)
    }

    /// An id EC2 cannot even parse (`InvalidInstanceID.Malformed`).
    public var isMalformedID: Bool { code.hasSuffix(".Malformed") }

    /// S3 has no object under that key (GetObject says `NoSuchKey`, HEAD only 404).
    public var isNoSuchKey: Bool {
        code == "NoSuchKey" || (service == "s3" && httpStatus == 404 && code != "NoSuchBucket")
    }

    /// The bucket exists and is the caller's already (CreateBucket).
    public var isBucketAlreadyOwned: Bool { code == "BucketAlreadyOwnedByYou" }

    /// Throttled: wait and try again (AWSKit retries these itself first).
    public var isThrottle: Bool { isThrottling }

    /// EC2 has no capacity, or the account no quota, for the instance right now; it may later.
    /// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/troubleshooting-launch.html
    public var isCapacity: Bool {
        ["InsufficientInstanceCapacity", "InsufficientCapacityOnHost", "InstanceLimitExceeded", "VcpuLimitExceeded"]
            .contains(code)
    }

    /// A ClientToken sent again with different parameters.
    public var isIdempotencyMismatch: Bool { code == "IdempotentParameterMismatch" }

    /// The instance is not in a state that allows the call (`IncorrectInstanceState`,
    /// `IncorrectState`).
    public var isIncorrectState: Bool { code == "IncorrectInstanceState" || code == "IncorrectState" }
}
