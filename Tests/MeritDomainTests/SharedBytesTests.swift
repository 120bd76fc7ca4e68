import Testing

@testable import MeritDomain

@Suite("bytes in shared blocks")
struct SharedBytesTests {
    @Test("runs copied into an arena read back as they were, across blocks, alone when large, after the arena is gone")
    func arena() {
        var random = SplitMix64(state: 23)
        var arena: ByteArena? = ByteArena()
        var runs: [[UInt8]] = []
        var copies: [SharedBytes] = []
        // Enough runs to fill several blocks, of every size up to a quarter of a block and a little past it.
        var total = 0
        while total < 3 * ByteArena.blockSize {
            let count =
                runs.count.isMultiple(of: 50)
                ? ByteArena.blockSize / 4 + Int(random.next() % 3) - 1 : Int(random.next() % 2000)
            let run = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            runs.append(run)
            copies.append(run.withUnsafeBufferPointer { arena!.copy($0) })
            total += count
        }
        arena = nil
        for (run, copy) in zip(runs, copies) {
            #expect(copy.array == run)
            #expect(Int(copy.count) == run.count)
            #expect(copy == SharedBytes(run))
        }
        #expect(copies[1] != copies[2] || runs[1] == runs[2])
        #expect(SharedBytes([]) == SharedBytes([]))
        #expect(SharedBytes([1, 2]) != SharedBytes([1, 3]))
        #expect(SharedBytes([1, 2]) != SharedBytes([1, 2, 3]))
    }
}
