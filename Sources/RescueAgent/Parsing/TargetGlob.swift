extension TargetFiles {
    /// Paths matching a glob whose `*`, `?` and `[…]` may appear in any component, sorted as
    /// glob(3) sorts them. Unlike glob(3), a wildcard component never descends through a symlink to a
    /// directory: `a -> .` would otherwise multiply the paths with every component. A literal
    /// component is resolved as usual (beneath the root). Nothing is read; the caller reads each
    /// match once. More than `ReadLimits.globPaths` paths visited is refused.
    public func glob(_ pattern: String) throws(TargetFileError) -> [String] {
        let components = pattern.split(separator: "/")
        var paths = [""]
        var visited = 0
        for (index, component) in components.enumerated() {
            let isLast = index == components.count - 1
            let matcher = WildcardPattern(glob: component)
            guard matcher.hasWildcard else {
                paths = paths.map { "\($0)/\(component)" }
                continue
            }
            var next: [String] = []
            for directory in paths {
                let found = try entries(directory.isEmpty ? "/" : directory) ?? []
                for entry in found.sorted(by: { $0.name < $1.name }) where matcher.matches(entry.name) {
                    guard isLast || entry.kind == .directory else { continue }
                    visited += 1
                    guard visited <= ReadLimits.globPaths else {
                        throw TargetFileError(
                            pattern, .tooLarge,
                            "matches more than \(ReadLimits.globPaths) paths, the most the agent expands")
                    }
                    next.append("\(directory)/\(entry.name)")
                }
            }
            paths = next
        }
        return paths
    }
}
