#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The rescue host's user-data: the bootstrap script of deploy/rescue-user-data.sh.tmpl with the
/// run's values filled in. The template is compiled in (a test keeps it equal to the deploy/ file)
/// so that an installed `keyrescue` needs no source tree.
public enum UserData {
    /// EC2 refuses user-data over 16 KB (before base64).
    public static let limit = 16384

    public struct Values: Sendable {
        public var runID: String
        public var agentURL: String
        public var agentSHA256: String
        public var reportURL: String
        public var job: RescueJob
        /// Presigned PUT of the `ready` object; empty: the bootstrap signals readiness only on
        /// the console.
        public var readyURL: String
        /// Install the bootstrap as a per-boot script (a Marketplace root: the host is restarted
        /// after the attach, and user-data runs only at the first boot).
        public var perBoot: Bool

        public init(
            runID: String, agentURL: String, agentSHA256: String, reportURL: String, job: RescueJob,
            readyURL: String = "", perBoot: Bool = false
        ) {
            self.runID = runID
            self.readyURL = readyURL
            self.perBoot = perBoot
            self.agentURL = agentURL
            self.agentSHA256 = agentSHA256
            self.reportURL = reportURL
            self.job = job
        }
    }

    public enum RenderError: Error, Equatable, CustomStringConvertible {
        case unsafeValue(String)
        case tooLarge(Int)

        public var description: String {
            switch self {
            case .unsafeValue(let name): "the \(name) cannot be put in the user-data script safely (quote or newline)"
            case .tooLarge(let size):
                "the user-data is \(size) bytes, over EC2's limit of \(UserData.limit): fewer or shorter public keys"
            }
        }
    }

    public static func render(_ values: Values, template: String = UserData.template) throws -> String {
        let job = Data(try WireFormat.encode(values.job)).base64EncodedString()
        let fields = [
            ("RUN_ID", "run id", values.runID), ("AGENT_URL", "agent URL", values.agentURL),
            ("AGENT_SHA256", "agent hash", values.agentSHA256), ("REPORT_URL", "report URL", values.reportURL),
            ("READY_URL", "ready URL", values.readyURL), ("PER_BOOT", "per-boot switch", values.perBoot ? "1" : "0"),
            ("JOB_BASE64", "job", job),
        ]
        var text = template
        for (placeholder, name, value) in fields {
            guard !value.contains(where: { $0 == "'" || $0.isNewline || $0 == "\\" }) else {
                throw RenderError.unsafeValue(name)
            }
            text = text.replacing("{{\(placeholder)}}", with: value)
        }
        guard text.utf8.count <= limit else { throw RenderError.tooLarge(text.utf8.count) }
        return text
    }

    public static let template = """
        #!/bin/sh
        # keyrescue rescue-host bootstrap, rendered by `keyrescue` into the rescue instance's user-data.
        # Downloads the xz-compressed agent (presigned S3 GET, short-lived), unpacks it with xz or, on a
        # host without xz, Python's lzma module (cloud-init, which runs this script, is Python 3), checks
        # the SHA-256 of what it unpacked, says it is ready (presigned S3 PUT), runs it on the job,
        # and uploads the report (presigned S3 PUT). The report line also goes to the serial console, so
        # the controller can read it with GetConsoleOutput when the upload fails. The URLs are never
        # printed: their signatures are secrets while they live.
        set -u
        umask 077
        RUN_ID='{{RUN_ID}}'
        AGENT_SHA256='{{AGENT_SHA256}}'
        AGENT_URL='{{AGENT_URL}}'
        REPORT_URL='{{REPORT_URL}}'
        READY_URL='{{READY_URL}}'
        PER_BOOT='{{PER_BOOT}}'
        JOB_BASE64='{{JOB_BASE64}}'
        # On the root filesystem: /run and /tmp are often mounted noexec.
        work=/var/lib/keyrescue/$RUN_ID
        mkdir -p "$work" && cd "$work" || exit 1
        # Done once: a later boot (a Marketplace host is restarted) does nothing more.
        [ -e finished ] && exit 0
        # A Marketplace root attaches only to a stopped host: the agent must run again at the boot after
        # the attach, so the script installs itself where cloud-init runs scripts at every boot.
        per_boot=/var/lib/cloud/scripts/per-boot/keyrescue-$RUN_ID
        if [ "$PER_BOOT" = 1 ] && [ "$0" != "$per_boot" ]; then
            mkdir -p "${per_boot%/*}" && cp "$0" "$per_boot" && chmod 700 "$per_boot"
        fi

        say() {
            echo "keyrescue[$RUN_ID]: $*"
            { echo "keyrescue[$RUN_ID]: $*" > /dev/console; } 2>/dev/null || true
        }

        upload() {
            curl -sS -f --retry 5 --retry-delay 2 --connect-timeout 10 --max-time 60 \\
                -X PUT -H 'Content-Type: application/json' --upload-file report.json "$REPORT_URL" >/dev/null \\
                && say "report uploaded" || say "report upload failed; the console line above carries it"
        }

        # A report for failures before the agent runs, in the agent's own format (RescueModel.RescueReport).
        fail() {
            printf '{"version":1,"runID":"%s","ok":false,"agentVersion":"bootstrap","error":{"code":"%s","message":"%s","hint":"%s","candidates":[]},"hostKeys":[],"warnings":[],"alreadyPresent":false,"dryRun":false,"durations":[]}\\n' \\
                "$RUN_ID" "$1" "$2" "$3" > report.json
            say "KEYRESCUE-REPORT v1 $(base64 -w0 report.json)"
            upload
            exit 1
        }

        say "bootstrap started on $(uname -n)"
        if echo "$AGENT_SHA256  keyrescue-agent" | sha256sum -c - >/dev/null 2>&1; then
            say "agent already fetched and checked at an earlier boot"
        else
            command -v curl >/dev/null || fail internalError "the rescue host has no curl" "use a rescue AMI with curl (Amazon Linux 2023 has it)"
            curl -sS -f --retry 5 --retry-delay 2 --connect-timeout 10 --max-time 300 -o keyrescue-agent.xz "$AGENT_URL" \\
                || fail agentDownloadFailed "the rescue host could not download the agent from S3" \\
                        "check that the subnet reaches S3 (internet or NAT gateway, or an S3 gateway endpoint)"
            if command -v xz >/dev/null; then
                xz -d -c keyrescue-agent.xz > keyrescue-agent
            elif command -v python3 >/dev/null; then
                python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \\
                    keyrescue-agent.xz keyrescue-agent
            else
                fail internalError "the rescue host has neither xz nor python3 to unpack the agent" "use a rescue AMI with cloud-init (it brings python3), such as Amazon Linux 2023"
            fi
            echo "$AGENT_SHA256  keyrescue-agent" | sha256sum -c - >/dev/null 2>&1 \\
                || fail agentHashMismatch "the downloaded agent does not unpack to the expected SHA-256" "run again; if it repeats, check the bucket"
        fi
        chmod 700 keyrescue-agent
        # Ready: the controller stops the target only now (an empty object at the ready URL; the console
        # line is its fallback). A host that never gets here leaves the target untouched.
        if [ -n "$READY_URL" ]; then
            curl -sS -f --retry 5 --retry-delay 2 --connect-timeout 10 --max-time 60 \\
                -X PUT --data-binary '' "$READY_URL" >/dev/null || say "ready upload failed; the console line carries it"
        fi
        echo "$JOB_BASE64" | base64 -d > job.json || fail invalidJob "the job in the user-data is not valid base64" "run again"
        say "agent verified; waiting for the volume and fixing it"
        ./keyrescue-agent run --job job.json --report report.json > console.txt 2> agent.err
        rc=$?
        while IFS= read -r line; do say "$line"; done < agent.err
        [ -s report.json ] || fail internalError "the agent exited with $rc and wrote no report: $(tail -n 1 agent.err | tr -d '"\\\\')" "see the console output"
        while IFS= read -r line; do say "$line"; done < console.txt
        upload
        # Only a success ends the per-boot runs: an agent cut short by a stop runs again at the next boot.
        grep -q '"ok" *: *true' report.json && touch finished
        say "bootstrap finished (agent exit $rc)"

        """
}
