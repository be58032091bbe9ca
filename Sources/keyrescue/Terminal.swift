import Foundation
import Glibc
import RescueController

/// The controlling terminal: whether a question can be asked, and asking it.
enum Terminal {
    static func confirm(_ question: String, json: Bool) -> ResetFlow.Answer {
        guard isatty(0) == 1, !json else { return .cannotAsk }
        say(question, terminator: "")
        guard let answer = readLine()?.lowercased(), answer == "y" || answer == "yes" else { return .no }
        return .yes
    }
}
