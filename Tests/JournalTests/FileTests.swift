import Bytes
import TestSupport
import Foundation
import Testing
@testable import Journal

/// What happens at the file level: creation, epoch, durability, backups, damaged or busy files.
@Suite struct FileTests {
    @Test func createsMissingDirectoriesAndUsesWAL() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("nested/deeper/j.db")
        let journal = try Journal(JournalOptions(path: path))
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try journal.pragma("journal_mode") == .text("wal"))
        #expect(journal.schemaVersion == JournalSchema.currentVersion)
    }

    @Test(arguments: [(Durability.normal, Int64(1)), (Durability.full, Int64(2))])
    func durabilitySetsSynchronous(durability: Durability, expected: Int64) throws {
        let directory = TemporaryDirectory()
        var options = JournalOptions(path: directory.file("j.db"))
        options.durability = durability
        let journal = try Journal(options)
        #expect(try journal.pragma("synchronous") == .integer(expected))
        #expect(try journal.append([EventFixtures.fill("E1")]) == [1])
    }

    @Test func tuningOptionsReachTheConnection() throws {
        let directory = TemporaryDirectory()
        var options = JournalOptions(path: directory.file("j.db"))
        options.walAutocheckpointPages = 1_234
        options.cacheKiB = 4_096
        let journal = try Journal(options)
        #expect(try journal.pragma("wal_autocheckpoint") == .integer(1_234))
        #expect(try journal.pragma("cache_size") == .integer(-4_096))
    }

    @Test func zeroPagesTurnsAutomaticCheckpointsOffForAnExternalCheckpointer() throws {
        let directory = TemporaryDirectory()
        var options = JournalOptions(path: directory.file("j.db"))
        options.walAutocheckpointPages = 0
        let writer = try Journal(options)
        #expect(try writer.pragma("wal_autocheckpoint") == .integer(0))
        try writer.append((1...20).map { EventFixtures.fill("E\($0)") })
        // A second read-write instance (the checkpointer's) copies the writer's WAL back.
        let checkpointer = try Journal(options)
        let result = try checkpointer.checkpointWAL()
        #expect(result.walPages > 0)
        #expect(result.copiedPages == result.walPages)
        try writer.append([EventFixtures.fill("E21")])
        #expect(writer.lastSeq == 21)
    }

    @Test func idleCheckpointCopiesTheWALBack() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append((1...20).map { EventFixtures.fill("E\($0)") })
        let result = try journal.checkpointWAL()
        #expect(result.walPages > 0)
        #expect(result.copiedPages == result.walPages)
        #expect(try journal.events(after: 0, limit: 100).count == 20)
    }

    @Test func epochIsStableAcrossReopenAndDiffersForANewFile() throws {
        let directory = TemporaryDirectory()
        let first = try Journal(JournalOptions(path: directory.file("a.db")))
        let epoch = first.epoch
        let created = first.createdAt
        first.close()
        #expect(epoch.count == 16)
        #expect(epoch.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        let reopened = try Journal(JournalOptions(path: directory.file("a.db")))
        #expect(reopened.epoch == epoch)
        #expect(reopened.createdAt == created)
        let other = try Journal(JournalOptions(path: directory.file("b.db")))
        #expect(other.epoch != epoch)
    }

    @Test func backupIsAValidConsistentCopy() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append([EventFixtures.fill("E1"), EventFixtures.fill("E2")], cursors: [SourceCursor(name: "c", value: "v")],
                           checkpoint: (seq: 1, state: [9]))
        let target = directory.file("backups/copy.db")
        try FileManager.default.createDirectory(atPath: directory.file("backups"), withIntermediateDirectories: true)
        try journal.backup(to: target)
        // Writes after the backup are not in it.
        try journal.append([EventFixtures.fill("E3")])

        let copy = try Journal(JournalOptions(path: target))
        #expect(try copy.integrityCheck())
        #expect(copy.epoch == journal.epoch)
        #expect(copy.lastSeq == 2)
        #expect(try copy.allExecIds() == ["E1": 1, "E2": 2])
        #expect(try copy.cursor("c") == "v")
        #expect(try copy.latestCheckpoint()?.state == [9])

        let error = #expect(throws: JournalError.self) { try journal.backup(to: target) }
        #expect(error?.code == "exists")
    }

    @Test func integrityCheckPassesOnAHealthyFile() throws {
        let directory = TemporaryDirectory()
        let journal = try Journal(JournalOptions(path: directory.file("j.db")))
        try journal.append((1...50).map { EventFixtures.fill("E\($0)") })
        #expect(try journal.integrityCheck())
    }

    @Test func garbageFileIsReportedCorrupt() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("garbage.db")
        var generator = SeededRandom(seed: 99)
        let bytes = (0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let error = #expect(throws: JournalError.self) { _ = try Journal(JournalOptions(path: path)) }
        #expect(error?.code == "corrupt")
        #expect(error?.message.contains(path) == true)
        // Nothing was written over it.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    }

    @Test func damagedPagesAreDetected() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        do {
            let journal = try Journal(JournalOptions(path: path))
            for batch in 0..<20 {
                try journal.append((0..<50).map { EventFixtures.fill("E\(batch)-\($0)") })
            }
            journal.close()  // checkpoints the WAL into the main file
        }
        // Overwrite the middle of the pages in use (the file itself grows by whole chunks, so its
        // tail may be unused) with garbage, keeping the header.
        let inUse: UInt64
        do {
            let connection = try SQLiteConnection(path: path)
            defer { connection.close() }
            guard case .integer(let pages)? = try connection.scalar("PRAGMA page_count") else { Issue.record("no page count"); return }
            inUse = UInt64(pages) * 4_096
        }
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: inUse / 2)
        handle.write(Data(repeating: 0xA5, count: 16_384))
        try handle.close()

        do {
            let journal = try Journal(JournalOptions(path: path))
            var detected = try !journal.integrityCheck()
            if !detected {
                do { _ = try journal.events(after: 0, limit: 2_000) } catch { detected = error.code == "corrupt" }
            }
            #expect(detected)
        } catch {
            #expect(error.code == "corrupt")
        }
    }

    @Test func sqliteFileThatIsNotAJournalIsRefused() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("other.db")
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("CREATE TABLE t (x INTEGER)")
            connection.close()
        }
        let error = #expect(throws: JournalError.self) { _ = try Journal(JournalOptions(path: path)) }
        #expect(error?.code == "not_journal")
    }

    @Test func writerBlockedByAnExclusiveLockGetsLockedNotAHang() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        try Journal(JournalOptions(path: path)).close()

        let holder = try SQLiteConnection(path: path)
        try holder.execute("BEGIN EXCLUSIVE")
        try holder.execute("INSERT INTO meta (key, value) VALUES ('held', 'yes')")
        defer { try? holder.execute("ROLLBACK"); holder.close() }

        var options = JournalOptions(path: path)
        options.busyTimeoutMilliseconds = 100
        let journal = try Journal(options)  // WAL lets the open read past the writer
        let error = #expect(throws: JournalError.self) { try journal.append([EventFixtures.fill("E1")]) }
        #expect(error?.code == "locked")
        #expect(error?.message.contains(path) == true)
        #expect(journal.lastSeq == 0)
    }

    @Test func openBlockedByAnExclusiveLockGetsLocked() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("rollback.db")
        // A rollback-journal file with an exclusive lock blocks even readers.
        let holder = try SQLiteConnection(path: path)
        try holder.execute("CREATE TABLE t (x INTEGER)")
        try holder.execute("BEGIN EXCLUSIVE")
        try holder.execute("INSERT INTO t VALUES (1)")
        defer { try? holder.execute("ROLLBACK"); holder.close() }

        var options = JournalOptions(path: path)
        options.busyTimeoutMilliseconds = 100
        let error = #expect(throws: JournalError.self) { _ = try Journal(options) }
        #expect(error?.code == "locked")
    }

    @Test func unwritableLocationGivesAClearErrorNamingThePath() throws {
        // procfs refuses new files even to root, so this holds in containers running as root.
        let path = "/proc/ladderwire-journal-\(getpid()).db"
        let error = #expect(throws: JournalError.self) { _ = try Journal(JournalOptions(path: path)) }
        #expect(error.map { ["readonly", "io"].contains($0.code) } == true)
        #expect(error?.message.contains(path) == true)
    }

    @Test func directoryThatCannotBeCreatedGivesAClearError() throws {
        let directory = TemporaryDirectory()
        let blocker = directory.file("plain-file")
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        let path = blocker + "/sub/j.db"
        let error = #expect(throws: JournalError.self) { _ = try Journal(JournalOptions(path: path)) }
        #expect(error?.code == "io")
        #expect(error?.message.contains(path) == true)
    }

    @Test(.enabled(if: geteuid() != 0, "root ignores directory permissions"))
    func readOnlyDirectoryIsReportedReadonly() throws {
        let directory = TemporaryDirectory()
        let locked = directory.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        let path = locked + "/j.db"
        let error = #expect(throws: JournalError.self) { _ = try Journal(JournalOptions(path: path)) }
        #expect(error?.code == "readonly")
        #expect(error?.message.contains(path) == true)
    }
}

/// The WAL copy-back thread runs below the loop's priority: it must not take a core from the
/// loop or from a client on the same machine.
@Suite struct WALCheckpointerPriorityTests {
    @Test func theCopyBackThreadRunsAtALowerPriority() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("j.db")
        _ = try Journal(JournalOptions(path: path))
        let checkpointer = WALCheckpointer(path: path, intervalSeconds: 0.05)
        checkpointer.start()
        defer { checkpointer.stop() }
        var niceness: Int?
        for _ in 0..<100 where niceness == nil {
            niceness = Self.niceness(ofThreadNamed: "wal-checkpoint")
            if niceness == nil || niceness == 0 { niceness = nil; usleep(10_000) }
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap {
            try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)
        }
        #expect(niceness == 10, "threads: \(names)")
        #expect(CurrentThread.niceness == 0, "the test's own thread is untouched")
    }

    /// The nice value (field 19 of /proc/self/task/TID/stat) of this process's thread named `name`.
    static func niceness(ofThreadNamed name: String) -> Int? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        for task in tasks {
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                  comm.trimmingCharacters(in: .whitespacesAndNewlines) == name,
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // Fields after the command name start at field 3 (state); nice is field 19.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 16 ? Int(fields[16]) : nil
        }
        return nil
    }
}
