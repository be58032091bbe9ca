import AWSKit
import RescueModel

/// The rescue controller: preflight, plan, the step machine, the journal.
public enum Controller {
    public static let userAgent = AWSKit.userAgent
}
