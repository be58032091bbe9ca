import ArgumentParser
import Glibc
import RescueAgent
import RescueModel

/// The CLI's I/O around the library: reading keys and jobs, opening targets, printing reports.
enum AgentIO {
    static func loadKey(file: String?, text: String?) throws -> PublicKey {
        // ValidationError for usage mistakes (exit 64); RescueReport.Failure for a bad key (exit 2).
        let line: String
        switch (file, text) {
        case (let file?, nil):
            do { line = String(decoding: try HostFiles.read(file, limit: smallFileLimit), as: UTF8.self) } catch {
                throw RescueReport.Failure(
                    .invalidPublicKey, "cannot read the public key file \(file): \(error)",
                    hint: "give the path of a .pub file")
            }
        case (nil, let text?): line = text
        default: throw ValidationError("give exactly one of --public-key FILE or --public-key-text 'ssh-ed25519 …'")
        }
        do { return try PublicKey(parsing: line) } catch {
            throw RescueReport.Failure(.invalidPublicKey, "the public key was refused: \(error)", hint: "")
        }
    }

    /// Opens the target, runs `body`, and always closes it (unmount, detach), also on SIGTERM/SIGINT.
    /// `deviceName` is the name the volume was attached under (`/dev/sdf`): a Xen host shows it as
    /// `/dev/xvdf` and has no NVMe serial to find it by. The report carries each phase's duration.
    static func withTarget(
        _ source: TargetSource, readOnly: Bool, deviceName: String? = nil,
        _ body: (any OpenedTarget) -> RescueReport
    ) -> RescueReport {
        var phases = PhaseClock()
        let target: any OpenedTarget
        do {
            switch source {
            case .root(let dir): target = DirectoryTarget(rootPath: dir)
            case .volumeID(let id, let waitSeconds):
                let device = try DiskTarget.waitForVolume(id, deviceName: deviceName, waitSeconds: waitSeconds)
                phases.lap("wait for the volume")
                target = try DiskTarget.open(.device(device), readOnly: readOnly)
            default: target = try DiskTarget.open(source, readOnly: readOnly)
            }
        } catch {
            return .failure(runID: nil, agentVersion: Injector.agentVersion, error)
        }
        phases.lap("open and mount")
        var report = body(target)
        phases.lap("inspect and write")
        do { try target.close() } catch {
            report.ok = false
            report.error = .init(
                .internalError, "could not unmount or detach everything: \(error)",
                hint: "check `findmnt` and `losetup -l` and release what keyrescue-agent left")
        }
        phases.lap("unmount")
        report.durations = phases.durations
        return report
    }

    static func runJob(path: String) -> RescueReport {
        let job: RescueJob
        let keys: [PublicKey]
        do {
            let bytes: [UInt8]
            do { bytes = try HostFiles.read(path, limit: smallFileLimit) } catch {
                throw RescueReport.Failure(
                    .invalidJob, "cannot read the job file \(path): \(error)", hint: "check the bootstrap script")
            }
            job = try WireFormat.decodeJob(bytes)
            keys = try job.publicKeys.map { line throws(RescueReport.Failure) in
                do { return try PublicKey(parsing: line) } catch {
                    throw RescueReport.Failure(
                        .invalidPublicKey, "the job's public key was refused: \(error)", hint: "")
                }
            }
        } catch let failure as RescueReport.Failure {
            return .failure(runID: nil, agentVersion: Injector.agentVersion, failure)
        } catch {
            return .failure(
                runID: nil, agentVersion: Injector.agentVersion,
                .init(
                    .invalidJob, "the job is not valid: \(error)",
                    hint: "the controller and the agent may be of different versions"))
        }
        let request = InjectRequest(
            keys: keys, user: job.user, replace: job.replace, dryRun: job.dryRun, runID: job.runID,
            backup: job.options.backup)
        var report = withTarget(
            .volumeID(job.volumeID, waitSeconds: job.options.volumeWaitSeconds), readOnly: job.dryRun,
            deviceName: job.deviceName
        ) {
            Injector.inject(request, into: $0)
        }
        report.runID = job.runID
        return report
    }

    static func finish(_ report: RescueReport, json: Bool) throws {
        if json {
            let bytes = (try? WireFormat.encode(report)) ?? []
            print(String(decoding: bytes, as: UTF8.self))
        }
        printSummary(report)
        if !report.ok { throw ExitCode(ExitCodes.code(for: report.error?.code)) }
    }

    /// Human words on stderr, so stdout stays the JSON (or the console line) alone.
    static func printSummary(_ report: RescueReport) {
        var lines: [String] = []
        if let error = report.error {
            lines.append("keyrescue-agent: \(error.message)")
            if !error.hint.isEmpty { lines.append("  what to do: \(error.hint)") }
            if !error.candidates.isEmpty { lines.append("  candidates: \(error.candidates.joined(separator: ", "))") }
        } else {
            let place = [report.partition ?? report.device, report.filesystem].compactMap { $0 }.joined(separator: " ")
            let distro = report.distro.map { $0.prettyName ?? $0.id } ?? "unknown distro"
            let verb =
                report.dryRun
                ? (report.keyFingerprint == nil ? "probed" : "would write")
                : (report.alreadyPresent ? "already present" : "written")
            lines.append(
                "keyrescue-agent: \(verb): \(report.authorizedKeysPath ?? "?") for \(report.user ?? "?") (uid \(report.uid.map(String.init) ?? "?")) on \(distro)\(place.isEmpty ? "" : ", \(place)")"
            )
            if let fp = report.keyFingerprint { lines.append("  key: \(fp)") }
            if let backup = report.backupPath { lines.append("  backup: \(backup)") }
            if let label = report.selinuxLabel { lines.append("  SELinux label: \(label)") }
        }
        for warning in report.warnings { lines.append("  warning: \(warning.message)") }
        FileStream.stderr(lines.joined(separator: "\n") + "\n")
    }

    /// Keys and jobs are a few KB; a megabyte is already a mistake.
    static let smallFileLimit = 1 << 20

    static func writeReport(_ report: RescueReport, to path: String) throws {
        let bytes = try WireFormat.encode(report)
        // A short or failed write would leave a truncated report for the bootstrap script to upload.
        do { try HostFiles.write(path, bytes, mode: 0o600) } catch {
            throw ReportNotWritten(path: path, reason: "\(error)")
        }
    }
}

/// `run --report PATH` could not write the report: not a usage error (64) but an I/O one, with
/// its own exit status so the bootstrap script's log tells the two apart.
struct ReportNotWritten: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String {
        "cannot write the report to \(path): \(reason); the report is still on the console line above (the controller reads it there)"
    }
}

enum ExitCodes {
    /// The report file could not be written (sysexits' EX_IOERR).
    static let reportNotWritten: Int32 = 74

    static func code(for error: RescueErrorCode?) -> Int32 {
        switch error {
        case nil: 0
        case .invalidPublicKey, .invalidJob: 2
        case .volumeNotFound, .noLinuxRoot, .multipleLinuxRoots, .corruptFilesystem, .mountFailed: 3
        case .noLoginUser, .userNotFound, .homeNotOnDisk: 4
        case .unsafePath: 5
        case .writeFailed, .verifyFailed: 6
        case .unsupported: 7
        default: 70
        }
    }

    static let table = """
        2 invalid public key or job; 3 disk, root filesystem or mount problem; 4 no usable login user \
        or home; 5 refused an unsafe path (symlink or `..`); 6 writing or reading back failed; \
        7 unsupported configuration; 70 internal error; 74 the report file could not be written; \
        64 bad arguments.
        """
}

enum FileStream {
    static func stderr(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}

/// Wall time of consecutive phases, on the monotonic clock.
struct PhaseClock {
    private var last = ContinuousClock.now
    private(set) var durations: [RescueReport.PhaseDuration] = []

    mutating func lap(_ phase: String) {
        let now = ContinuousClock.now
        let elapsed = last.duration(to: now)
        durations.append(
            .init(phase, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        last = now
    }
}
