/// The lines of a file's bytes, each decoded on its own (invalid UTF-8 repaired), without a `\n` or
/// a `\r` before it: a large file is never turned into one large String.
struct Lines: Sequence, IteratorProtocol {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> String? {
        guard position < bytes.count else { return nil }
        let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        var line = bytes[position..<end]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        position = end + 1
        return String(decoding: line, as: UTF8.self)
    }
}

/// Lines from a file read in chunks: a line split between two chunks is kept until it ends.
struct LineSplitter {
    private var partial: [UInt8] = []

    mutating func feed(_ chunk: ArraySlice<UInt8>, _ body: (String) -> Void) {
        var start = chunk.startIndex
        while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if partial.isEmpty {
                body(Self.decode(chunk[start..<newline]))
            } else {
                partial += chunk[start..<newline]
                body(Self.decode(partial[...]))
                partial.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
        partial += chunk[start...]
    }

    mutating func finish(_ body: (String) -> Void) {
        if !partial.isEmpty { body(Self.decode(partial[...])) }
        partial = []
    }

    private static func decode(_ line: ArraySlice<UInt8>) -> String {
        String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
    }
}
