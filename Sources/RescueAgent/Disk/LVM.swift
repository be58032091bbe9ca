import RescueModel

/// LVM without device-mapper: the agent reads the PV's metadata with the host's `lvm` tool,
/// restricted to that one device and in `--readonly --driverloaded n` mode (no locks, no metadata
/// writes, no dm), and "activates" a logical volume as a loop device over the window of the disk
/// that its extents occupy. A host volume group of the same name is never seen (the device filter
/// admits only our PV) and no dm name can clash, because no dm device is made at all. Deactivation
/// is the loop's detach. Limit: only linear LVs whose extents are contiguous on this PV (the usual
/// root LV of a cloud image); others are reported as unsupported.
enum LVM {
    struct LogicalVolume: Sendable, Equatable {
        var volumeGroup: String
        var name: String
        /// Byte window on the PV device.
        var offset: UInt64
        var size: UInt64
        var qualifiedName: String { "\(volumeGroup)/\(name)" }
    }

    static func config(for device: String) -> String {
        let filter = "[ \"a|^\(device)$|\", \"r|.*|\" ]"
        return "devices { filter=\(filter) global_filter=\(filter) use_devicesfile=0 } "
            + "global { use_lvmpolld=0 } activation { udev_sync=0 udev_rules=0 }"
    }

    static func arguments(_ command: String, device: String, fields: String) -> [String] {
        [
            command, "--config", config(for: device), "--readonly", "--driverloaded", "n",
            "--noheadings", "--separator", "|", "--units", "b", "--nosuffix", "-o", fields,
        ]
    }

    /// The logical volumes on the PV `device` (a loop device the agent made).
    static func logicalVolumes(pv device: String) throws -> (volumes: [LogicalVolume], unsupported: [String]) {
        guard let lvm = HostCommand.find("lvm") else {
            throw RescueReport.Failure(
                .unsupported, "\(device) is an LVM physical volume but this host has no `lvm` tool",
                hint: "Install lvm2 on the rescue host.")
        }
        let pvs = try HostCommand.run(lvm, arguments("pvs", device: device, fields: "pv_name,pe_start"))
        let lvs = try HostCommand.run(
            lvm,
            arguments(
                "lvs", device: device,
                fields: "vg_name,lv_name,segtype,seg_start_pe,seg_size_pe,seg_pe_ranges,vg_extent_size")
                + ["--segments"])
        guard pvs.status == 0, lvs.status == 0, let peStart = parsePEStart(pvs.output) else {
            throw RescueReport.Failure(
                .mountFailed, "cannot read the LVM metadata on \(device): \(pvs.errorText)\(lvs.errorText)",
                hint: "Check the volume group with `pvck` and `vgck` on a rescue host.")
        }
        return parseSegments(lvs.output, device: device, peStart: peStart)
    }

    static func parsePEStart(_ output: String) -> UInt64? {
        output.split(separator: "\n").compactMap { line -> UInt64? in
            let fields = line.split(separator: "|").map { $0.strippingCharacters(in: " ") }
            return fields.count == 2 ? UInt64(fields[1]) : nil
        }.first
    }

    /// Pure: `lvs --segments` rows → LVs as byte windows; LVs that are not one contiguous linear
    /// run on `device` go to `unsupported` with the reason.
    static func parseSegments(_ output: String, device: String, peStart: UInt64) -> (
        volumes: [LogicalVolume], unsupported: [String]
    ) {
        struct Run {
            var vg: String; var lv: String; var firstPE: UInt64; var extents: UInt64; var extentSize: UInt64;
            var problem: String?
        }
        var runs: [Run] = []
        for line in output.split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.strippingCharacters(in: " ") }
            guard f.count == 7, let segStart = UInt64(f[3]), let segSize = UInt64(f[4]), let extentSize = UInt64(f[6])
            else { continue }
            let (vg, lv, segtype, ranges) = (f[0], f[1], f[2], f[5])
            var problem: String? = segtype == "linear" ? nil : "segment type \(segtype)"
            var firstPE: UInt64 = 0
            let parts = ranges.split(separator: ":")
            if parts.count == 2, parts[0] == device,
                let lo = parts[1].split(separator: "-").first.flatMap({ UInt64($0) })
            {
                firstPE = lo
            } else if problem == nil {
                problem = "extents on another device (\(ranges))"
            }
            if let index = runs.firstIndex(where: { $0.vg == vg && $0.lv == lv }) {
                if runs[index].problem == nil, problem == nil,
                    runs[index].firstPE + runs[index].extents != firstPE || runs[index].extents != segStart
                {
                    runs[index].problem = "extents not contiguous"
                }
                runs[index].problem = runs[index].problem ?? problem
                runs[index].extents += segSize
            } else {
                runs.append(
                    Run(vg: vg, lv: lv, firstPE: firstPE, extents: segSize, extentSize: extentSize, problem: problem))
            }
        }
        var volumes: [LogicalVolume] = []
        var unsupported: [String] = []
        for run in runs {
            if let problem = run.problem {
                unsupported.append("LV \(run.vg)/\(run.lv): \(problem) (only contiguous linear LVs are supported)")
            } else {
                volumes.append(
                    LogicalVolume(
                        volumeGroup: run.vg, name: run.lv, offset: peStart + run.firstPE * run.extentSize,
                        size: run.extents * run.extentSize))
            }
        }
        return (volumes, unsupported)
    }
}

extension StringProtocol {
    func strippingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let c = slice.first, set.contains(c) { slice = slice.dropFirst() }
        while let c = slice.last, set.contains(c) { slice = slice.dropLast() }
        return String(slice)
    }
}
