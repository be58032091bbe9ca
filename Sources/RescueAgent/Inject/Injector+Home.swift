import RescueModel

extension Injector {
    /// Mounts the filesystem the target's fstab puts beneath the home (a separate `/home`) before
    /// the key is written, whether or not a directory of the home's name exists on the root: at
    /// boot that mount hides whatever lies beneath it, so a stale `/home/ubuntu` on the root
    /// filesystem is never where sshd looks. On another volume it cannot be reached, and the
    /// refusal says so (and why a directory on the root would not do).
    static func mountHomeIfSeparate(
        _ home: String, _ root: SafeRoot, _ target: some OpenedTarget, _ report: inout RescueReport
    ) throws(RescueReport.Failure) {
        guard let fstab = try root.textOrRefusal("/etc/fstab", because: "it says where the home's filesystem is"),
            let entry = HomeMount.entry(holding: home, in: Fstab.parse(fstab))
        else { return }
        let outcome: SecondaryMount
        do { outcome = try target.mountSecondary(entry) } catch {
            throw RescueReport.Failure(
                .mountFailed, "cannot mount \(entry.spec) at \(entry.mountPoint): \(error)",
                hint: "check that filesystem with fsck")
        }
        switch outcome {
        case .mounted: return
        case .onAnotherVolume(let why):
            report.warnings.append(.init(.homeOnOtherVolume, why))
            let shadowed =
                root.lstatInRoot(home) == nil
                ? ""
                : " (the \(home) on the root filesystem is hidden by that mount at boot: a key written there would never be read)"
            throw RescueReport.Failure(
                .homeNotOnDisk, "\(home) is on \(entry.spec), which is not on this disk: \(why)\(shadowed)",
                hint:
                    "attach that volume as well and run the agent on it, or pass --user for an account whose home is on the root"
            )
        case .failed(let why):
            throw RescueReport.Failure(
                .mountFailed, "cannot mount \(entry.spec) at \(entry.mountPoint): \(why)",
                hint: "check that filesystem with fsck")
        }
    }
}

/// Which fstab entry, if any, must be mounted for the home to be what sshd will see (pure).
enum HomeMount {
    /// The entry whose mount point holds `home`, unless it is the root itself or `noauto` (not
    /// mounted at boot, so the directory on the root filesystem is the one in use).
    static func entry(holding home: String, in entries: [FstabEntry]) -> FstabEntry? {
        let booted = entries.filter { !$0.options.contains("noauto") }
        guard let entry = Fstab.entry(holding: home, in: booted), entry.mountPoint != "/" else { return nil }
        return entry
    }
}
