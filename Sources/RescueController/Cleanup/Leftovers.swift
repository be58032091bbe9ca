import AWSKit
import Foundation

/// Which S3 objects `keyrescue cleanup` may delete: those under `keyrescue/RUN/` of runs no
/// longer in progress, last written before the cutoff. Anything else in the bucket is not ours, and
/// the shared agent (`keyrescue/agents/`) is every run's.
public enum Leftovers {
    public static func objectsToDelete(_ objects: [S3Object], activeRuns: Set<String>, before cutoff: Date) -> [S3Object] {
        objects.filter { object in
            let parts = object.key.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 3, parts[0] == "keyrescue", !parts[1].isEmpty else { return false }
            // keyrescue/agents/SHA.xz is shared by every run (AgentDelivery); the expiry rule ends it.
            if object.key.hasPrefix(AgentDelivery.sharedPrefix) { return false }
            return !activeRuns.contains(String(parts[1])) && object.lastModified < cutoff
        }
    }
}
