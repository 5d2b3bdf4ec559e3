import Foundation
import MattingKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder of photos matted into another folder, the way `matte-batch` does it:
/// resumable, shardable, never writing over an input.
///
/// Names: the photo at `relative/path/name.ext` below ``inputFolder`` gives
/// `outputFolder/relative/path/name.png` (`.jpg` for ``format`` `.jpeg`), its mask
/// `outputFolder/relative/path/name-mask.png` (``savesMasks``), its preview
/// `previewFolder/relative/path/name-preview.png`, and its trimap is read from
/// `trimapFolder/relative/path/name.png`.
///
/// ```swift
/// var batch = MatteBatch(inputFolder: photos, outputFolder: cutouts)
/// batch.recursive = true
/// batch.shard = try MatteBatch.Shard(parsing: "2/3")
/// let plan = try batch.plan()                  // scan, name, skip finished work
/// let matters = try (0..<2).map { _ in try Matter(threads: 1) }   // two photos at once
/// let records = await batch.run(plan, matters: matters) { event in print(event) }
/// ```
///
/// ``plan()`` scans the input folder (sorted, hidden files and folders skipped, the output,
/// preview and trimap folders never scanned even when they lie inside it), keeps the files that
/// match ``patterns``, rejects photos whose output would land on an input file or on another
/// photo's output, keeps this ``shard``'s share, marks photos whose outputs all exist as
/// finished (unless ``overwrite``), and deletes temporary files a killed earlier run left
/// beside this shard's outputs. ``run(_:matters:onEvent:)`` mattes the rest. Every output
/// is written atomically (``OutputFiles``): a photo's outputs are complete or absent, so a
/// run killed at any moment is resumed by running it again.
public struct MatteBatch: Sendable {
    /// The folder of photos.
    public var inputFolder: URL
    /// Where the cut-outs (and masks) go; created if missing. Must not be ``inputFolder``.
    public var outputFolder: URL
    /// Descend into subfolders (default off: the folder's own files only).
    public var recursive = false
    /// `fnmatch(3)` patterns; a photo is taken if it matches any. A pattern with a `/` is
    /// matched against the relative path (`FNM_PATHNAME`), one without against the file name.
    /// Case matters, as in the shell. Empty (the default): files named `.png`, `.jpg` or
    /// `.jpeg` in any case.
    public var patterns: [String] = []
    /// The cut-outs' format: PNG (RGBA) or JPEG (composited over the background colour).
    public var format: ImageFormat = .png
    /// Also write each photo's 8-bit mask as `<name>-mask.png` beside its cut-out.
    public var savesMasks = false
    /// Also write each photo's ``PreviewSheet`` as `<name>-preview.png` in this folder.
    public var previewFolder: URL?
    /// Read each photo's trimap from this folder (`<relative path without extension>.png`)
    /// instead of running the network.
    public var trimapFolder: URL?
    /// Product shots on a plain backdrop: no network (`Matter.studioMatte(_:options:studio:progress:)`).
    public var studio = false
    /// The pipeline options for every photo.
    public var options = MattingOptions()
    /// The preview sheets' layout.
    public var preview = PreviewSheet()
    /// This run's share of the folder (default: all of it).
    public var shard = Shard(index: 1, count: 1)
    /// Redo photos whose outputs already exist (default: skip them).
    public var overwrite = false

    public init(inputFolder: URL, outputFolder: URL) {
        self.inputFolder = inputFolder
        self.outputFolder = outputFolder
    }

    /// Whether the photos need the segmentation network (no trimap folder, not studio).
    public var needsModel: Bool { trimapFolder == nil && !studio }

    /// The job for the photo at `relativePath` (below ``inputFolder``, `/`-separated).
    public func job(forRelativePath relativePath: String) -> MatteJob {
        let stem = (relativePath as NSString).deletingPathExtension
        func file(_ folder: URL, _ name: String) -> URL { folder.appendingPathComponent(name).standardizedFileURL }
        return MatteJob(
            input: file(inputFolder, relativePath),
            output: file(outputFolder, "\(stem).\(format.fileExtension)"),
            format: format,
            source: trimapFolder.map { .trimap(file($0, "\(stem).png")) } ?? (studio ? .studio : .model),
            options: options,
            maskOutput: savesMasks ? file(outputFolder, "\(stem)-mask.png") : nil,
            previewOutput: previewFolder.map { file($0, "\(stem)-preview.png") },
            preview: preview)
    }

    /// One photo of a plan.
    public struct Item: Sendable {
        /// Its path below the input folder, `/`-separated.
        public let relativePath: String
        /// What will be done with it.
        public let job: MatteJob
        /// Its state before the run.
        public let state: State

        public enum State: Sendable, Equatable {
            /// To be matted.
            case pending
            /// Every output exists already: skipped.
            case finished
            /// Cannot be done safely; the reason.
            case rejected(String)
        }
    }

    /// What a run will do: this shard's photos in sorted order.
    public struct Plan: Sendable {
        /// This shard's photos, sorted by relative path (byte order).
        public let items: [Item]
        /// Photos that matched in the whole folder, every shard together.
        public let matchedCount: Int
        /// Stale temporary files of killed runs that were deleted.
        public let removedTemporaryFiles: [URL]

        public var pending: [Item] { items.filter { $0.state == .pending } }
        public var finished: [Item] { items.filter { $0.state == .finished } }
        public var rejected: [Item] { items.filter { if case .rejected = $0.state { true } else { false } } }
    }

    /// Scans the input folder and decides what to do with each photo (see the type's overview).
    ///
    /// - Throws: ``MatteBatchError`` if the input folder cannot be read, the output or
    ///   preview folder is a file, or either is the input folder.
    public func plan() throws -> Plan {
        let input = try FileIdentity(folder: inputFolder)
        for folder in [outputFolder, previewFolder].compactMap({ $0 }) where FileManager.default.fileExists(atPath: folder.path) {
            _ = try FileIdentity(folder: folder)    // exists, so it must be a folder
        }
        for (name, folder) in [("output", outputFolder), ("preview", previewFolder)] {
            if let folder, FileIdentity(path: folder.path) == input {
                throw MatteBatchError.outputIsInput(name, folder.path)
            }
        }
        let excluded = Set([outputFolder, previewFolder, trimapFolder].compactMap { $0.flatMap { FileIdentity(path: $0.path) } })
        var scan = FolderScan(excluded: excluded, recursive: recursive)
        try scan.walk(inputFolder, relative: "")
        let matched = scan.files.filter(matches).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }

        // Rejections are decided over the whole folder, before sharding, so every shard agrees.
        var claimed: [String: String] = [:]
        var items: [Item] = []
        for relativePath in matched {
            let job = job(forRelativePath: relativePath)
            var state = Item.State.pending
            for output in job.outputs {
                if let owner = claimed[output.path] {
                    state = .rejected("its output \(output.path) is also the output of \(owner)")
                } else if let identity = FileIdentity(path: output.path), scan.identities.contains(identity) {
                    state = .rejected(OutputFileError.wouldOverwriteInput(output.path).description)
                }
            }
            for output in job.outputs where claimed[output.path] == nil { claimed[output.path] = relativePath }
            guard shard.contains(relativePath) else { continue }
            if state == .pending, !overwrite, job.outputs.allSatisfy({ FileIdentity.isRegularFile($0.path) }) {
                state = .finished
            }
            items.append(Item(relativePath: relativePath, job: job, state: state))
        }
        let removed = AtomicFile.removeStaleTemporaryFiles(
            for: items.filter { if case .rejected = $0.state { false } else { true } }.flatMap(\.job.outputs))
        return Plan(items: items, matchedCount: matched.count, removedTemporaryFiles: removed)
    }

    /// Whether the file at `relativePath` is one of the photos to matte.
    public func matches(_ relativePath: String) -> Bool {
        let name = (relativePath as NSString).lastPathComponent
        guard !patterns.isEmpty else {
            return ["png", "jpg", "jpeg"].contains((name as NSString).pathExtension.lowercased())
        }
        return patterns.contains { pattern in
            pattern.contains("/")
                ? fnmatch(pattern, relativePath, FNM_PATHNAME) == 0
                : fnmatch(pattern, name, 0) == 0
        }
    }
}

/// Why a batch cannot start.
public enum MatteBatchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A folder is missing, not a folder, or unreadable.
    case unreadableFolder(String, reason: String)
    /// The output (or preview) folder is the input folder.
    case outputIsInput(String, String)
    /// A `--shard` text that is not `i/n` with 1 ≤ i ≤ n.
    case invalidShard(String)

    public var description: String {
        switch self {
        case let .unreadableFolder(path, reason): "\(path): \(reason)"
        case let .outputIsInput(name, path): "\(path): the \(name) folder must not be the input folder"
        case let .invalidShard(text): "\"\(text)\" is not a shard; expected i/n with 1 ≤ i ≤ n, for example 2/3"
        }
    }
}

/// A file's device and inode: what identifies it across links and spellings of its path.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64

    /// The identity of whatever `path` names (links followed), or nil if nothing is there.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// The identity of a folder that must exist.
    init(folder: URL) throws(MatteBatchError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) else {
            throw .unreadableFolder(folder.path, reason: "no such folder")
        }
        guard isFolder.boolValue, let identity = FileIdentity(path: folder.path) else {
            throw .unreadableFolder(folder.path, reason: "not a folder")
        }
        self = identity
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}

/// A walk over the input folder: relative paths of regular files, and the identity of every
/// file seen (photo or not) so that no output lands on one.
struct FolderScan {
    let excluded: Set<FileIdentity>
    let recursive: Bool
    var files: [String] = []
    var identities: Set<FileIdentity> = []
    var visited: Set<FileIdentity> = []

    init(excluded: Set<FileIdentity>, recursive: Bool) {
        self.excluded = excluded
        self.recursive = recursive
    }

    mutating func walk(_ folder: URL, relative: String) throws(MatteBatchError) {
        // Symbolic links may loop: each folder is entered once.
        guard let identity = FileIdentity(path: folder.path), visited.insert(identity).inserted else { return }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw .unreadableFolder(folder.path, reason: "cannot be listed")
        }
        for name in entries.sorted() where !name.hasPrefix(".") {
            let url = folder.appendingPathComponent(name)
            let path = relative.isEmpty ? name : "\(relative)/\(name)"
            var info = stat()
            guard stat(url.path, &info) == 0 else { continue }
            let id = FileIdentity(path: url.path)
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                files.append(path)
                if let id { identities.insert(id) }
            case S_IFDIR where recursive:
                if let id, excluded.contains(id) { continue }
                try walk(url, relative: path)
            default:
                continue
            }
        }
    }
}
