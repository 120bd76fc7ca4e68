/// Measurements of the log for the benchmark executable; tests never assert on time.
public enum LogBenchmark {
    /// How fast start-up replayed a log.
    public struct ReplayMeasurement: Sendable {
        /// Records replayed per open.
        public var records: Int
        /// Bytes of payload per record.
        public var payloadBytes: Int
        /// Bytes of segment files read per open.
        public var segmentBytes: Int
        /// The fastest open, in seconds (the least disturbed by the rest of the machine).
        public var seconds: Double

        /// Records replayed per second.
        public var recordsPerSecond: Double { Double(records) / seconds }
        /// Segment bytes read, checked and replayed per second, in MB (10⁶ bytes).
        public var megabytesPerSecond: Double { Double(segmentBytes) / seconds / 1e6 }
    }

    /// Write `records` records of `payloadBytes` bytes into a new log in `directory` (which should be empty), then
    /// open it `rounds` times, replaying every record into a checksum the compiler cannot discard, and report the
    /// fastest open. The files are read from the page cache after the first round, so this measures framing,
    /// checksums and the replay loop rather than the disk.
    public static func measureReplay(
        records: Int, payloadBytes: Int, directory: String, rounds: Int = 3,
        fileSystem: any FileSystem = POSIXFileSystem()
    ) throws(LogError) -> ReplayMeasurement {
        let options = LogOptions()
        do {
            let (log, _) = try WriteAheadLog.open(
                directory: directory, options: options, fileSystem: fileSystem, snapshot: { _, _ in }, replay: { _ in })
            defer { log.close() }
            var payload = [UInt8](repeating: 0, count: payloadBytes)
            for index in 0..<records {
                // Varying bytes, so that nothing about the checksum is special.
                for position in 0..<min(8, payloadBytes) {
                    payload[position] = UInt8(truncatingIfNeeded: index >> (8 * position))
                }
                try log.append(type: 1, payload: payload)
                if (index + 1) % 1000 == 0 { try log.commit() }
            }
            try log.commit()
        }
        let segmentCount: Int
        do {
            segmentCount = try LogDirectory(path: directory, fileSystem: fileSystem).segments.count
        } catch {
            throw .io(error)
        }
        let segmentBytes =
            records * (LogFormat.recordHeaderBytes + payloadBytes) + segmentCount * LogFormat.segmentHeaderBytes
        var best = Double.infinity
        var sink: UInt64 = 0
        let clock = ContinuousClock()
        for _ in 0..<max(1, rounds) {
            let start = clock.now
            let (log, report) = try WriteAheadLog.open(
                directory: directory, options: options, fileSystem: fileSystem, snapshot: { _, _ in },
                replay: { record in
                    sink &+= record.sequence &+ UInt64(record.payload.count)
                })
            let elapsed = clock.now - start
            log.close()
            precondition(report.replayedRecords == records, "replayed \(report.replayedRecords) of \(records) records")
            let components = elapsed.components
            best = min(best, Double(components.seconds) + Double(components.attoseconds) / 1e18)
        }
        precondition(sink != 0 || records == 0)
        return ReplayMeasurement(
            records: records, payloadBytes: payloadBytes, segmentBytes: segmentBytes, seconds: best)
    }
}
