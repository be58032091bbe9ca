/// The target's /etc/fstab: which filesystem holds a path (e.g. a separate /home).
public enum Fstab {
    public static func parse(_ text: String) -> [FstabEntry] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { unescape(String($0)) }
            guard fields.count >= 3, !fields[0].hasPrefix("#"), fields[1].hasPrefix("/") else { return nil }
            let options = fields.count > 3 ? fields[3].split(separator: ",").map(String.init) : []
            return FstabEntry(spec: fields[0], mountPoint: fields[1], type: fields[2], options: options)
        }
    }

    /// The entry whose mount point is the longest prefix of `path`, ignoring swap and pseudo filesystems.
    public static func entry(holding path: String, in entries: [FstabEntry]) -> FstabEntry? {
        let real = entries.filter { !["swap", "proc", "sysfs", "tmpfs", "devpts", "none"].contains($0.type) }
        return real.filter { e in
            e.mountPoint == "/" || path == e.mountPoint
                || path.hasPrefix(e.mountPoint.hasSuffix("/") ? e.mountPoint : e.mountPoint + "/")
        }.max { $0.mountPoint.count < $1.mountPoint.count }
    }

    /// fstab writes spaces and tabs in paths as octal escapes (`\040`).
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var out: [UInt8] = []
        let bytes = Array(field.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
                let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
