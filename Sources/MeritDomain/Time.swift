/// An instant, in whole milliseconds since 1970-01-01T00:00:00Z, written as RFC 3339 UTC with milliseconds.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch.
    public var milliseconds: Int64

    /// The instant `milliseconds` after the epoch.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The day (UTC) this instant falls on.
    public var day: Day {
        Day(daysSinceEpoch: Int64((Double(milliseconds) / 86_400_000).rounded(.down)))
    }

    /// `2026-04-01T09:12:00.000Z`.
    ///
    /// Written digit by digit into a fixed buffer: timestamps are formatted several times for every change, and
    /// string interpolation cost more than the rest of a request.
    public var description: String {
        let (dayNumber, rest) = parts
        let date = Day(daysSinceEpoch: dayNumber).components
        guard (0...9999).contains(date.year) else {
            return "\(Day(daysSinceEpoch: dayNumber))T\(pad(rest / 3_600_000, 2)):\(pad(rest / 60_000 % 60, 2)):"
                + "\(pad(rest / 1000 % 60, 2)).\(pad(rest % 1000, 3))Z"
        }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            Self.format(date, rest: rest, into: buffer.baseAddress!)
            return 24
        }
    }

    /// The most bytes `writeText` writes: 24 for years 0000–9999, more only for instants far outside them.
    public static let maximumTextLength = 32

    /// Write the text form (`description`) at `target`, which has room for `maximumTextLength` bytes, without
    /// making a string: what writers of JSON use. Returns the number of bytes written.
    public func writeText(to target: UnsafeMutablePointer<UInt8>) -> Int {
        let (dayNumber, rest) = parts
        let date = Day(daysSinceEpoch: dayNumber).components
        guard (0...9999).contains(date.year) else {
            var text = description
            return text.withUTF8 { utf8 in
                let count = min(utf8.count, Self.maximumTextLength)
                target.initialize(from: utf8.baseAddress!, count: count)
                return count
            }
        }
        Self.format(date, rest: rest, into: target)
        return 24
    }

    /// The day number and the milliseconds into that day.
    private var parts: (day: Int64, rest: Int64) {
        let millisecondsPerDay: Int64 = 86_400_000
        var dayNumber = milliseconds / millisecondsPerDay
        var rest = milliseconds % millisecondsPerDay
        if rest < 0 {
            rest += millisecondsPerDay
            dayNumber -= 1
        }
        return (dayNumber, rest)
    }

    /// Write `YYYY-MM-DDTHH:MM:SS.mmmZ`, 24 bytes, for a date whose year has four digits and `rest` milliseconds
    /// into it.
    private static func format(
        _ date: (year: Int64, month: Int64, day: Int64), rest: Int64, into buffer: UnsafeMutablePointer<UInt8>
    ) {
        let (year, month, day) = date
        func put(_ value: Int64, _ width: Int, at offset: Int) {
            var value = value
            for position in stride(from: offset + width - 1, through: offset, by: -1) {
                buffer[position] = UInt8(truncatingIfNeeded: 48 + value % 10)
                value /= 10
            }
        }
        put(year, 4, at: 0)
        buffer[4] = 45
        put(month, 2, at: 5)
        buffer[7] = 45
        put(day, 2, at: 8)
        buffer[10] = 84
        put(rest / 3_600_000, 2, at: 11)
        buffer[13] = 58
        put(rest / 60_000 % 60, 2, at: 14)
        buffer[16] = 58
        put(rest / 1000 % 60, 2, at: 17)
        buffer[19] = 46
        put(rest % 1000, 3, at: 20)
        buffer[23] = 90
    }

    /// Parse RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; the fraction is truncated to milliseconds.
    public init?(rfc3339 text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Timestamp(rfc3339Bytes: $0) }) else { return nil }
        self = parsed
    }

    /// Parse RFC 3339 from UTF-8 bytes (replay parses three per event, so this avoids any allocation).
    public init?(rfc3339Bytes bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count >= 20, let day = Day(bytes: bytes[0..<10]),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hours = number(bytes[11..<13]), let minutes = number(bytes[14..<16]),
            let seconds = number(bytes[17..<19]), hours < 24, minutes < 60, seconds < 60
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, let digit = number(bytes[index..<index + 1]) {
                if digits < 3 { millis = millis * 10 + digit }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard bytes.count - index == 6, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHours = number(bytes[index + 1..<index + 3]),
                let offsetMins = number(bytes[index + 4..<index + 6]), offsetHours < 24, offsetMins < 60
            else { return nil }
            offsetMinutes = (offsetHours * 60 + offsetMins) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        let secondsOfDay = hours * 3600 + minutes * 60 + seconds - offsetMinutes * 60
        let instant = (day.daysSinceEpoch * 86400 + secondsOfDay) * 1000 + millis
        // An offset can carry 9999-12-31 into year 10000, which no four-digit year can write back.
        guard Timestamp.writableMilliseconds.contains(instant) else { return nil }
        milliseconds = instant
    }

    /// The instants RFC 3339 can write in UTC: years 0000 to 9999.
    public static let writableMilliseconds: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999
}

/// A calendar date, `YYYY-MM-DD`, in the proleptic Gregorian calendar.
public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The days a four-digit year can write: 0000-01-01 to 9999-12-31.
    public static let writableDays: ClosedRange<Int64> = -719_528...2_932_896

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int64

    /// The day `daysSinceEpoch` days after 1970-01-01.
    public init(daysSinceEpoch: Int64) { self.daysSinceEpoch = daysSinceEpoch }

    /// The given date, or `nil` when it does not exist (2026-02-30).
    public init?(year: Int64, month: Int64, day: Int64) {
        guard (1...12).contains(month), day >= 1, day <= Day.length(ofMonth: month, year: year) else { return nil }
        // Howard Hinnant's days_from_civil.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        daysSinceEpoch = era * 146_097 + dayOfEra - 719_468
    }

    /// Parse `YYYY-MM-DD` exactly.
    public init?(_ text: String) {
        // A date is a small string, whose UTF-8 is lent in place: no array is made for it.
        let parsed: Day?? = text.utf8.withContiguousStorageIfAvailable { Day(bytes: $0) }
        guard let day = parsed ?? Day(bytes: Array(text.utf8)) else { return nil }
        self = day
    }

    init?<Bytes: Collection<UInt8>>(bytes: Bytes) where Bytes.Index == Int {
        let start = bytes.startIndex
        guard bytes.count == 10, bytes[start + 4] == UInt8(ascii: "-"), bytes[start + 7] == UInt8(ascii: "-"),
            let year = number(bytes[start..<start + 4]), let month = number(bytes[start + 5..<start + 7]),
            let day = number(bytes[start + 8..<start + 10])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The year, month and day.
    public var components: (year: Int64, month: Int64, day: Int64) {
        // Howard Hinnant's civil_from_days.
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `2026-04-01`.
    public var description: String {
        let (year, month, day) = components
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    static func length(ofMonth month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

private func number<Digits: Collection<UInt8>>(_ digits: Digits) -> Int64? {
    var value: Int64 = 0
    for byte in digits {
        guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int64(byte - UInt8(ascii: "0"))
    }
    return digits.isEmpty ? nil : value
}

private func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
