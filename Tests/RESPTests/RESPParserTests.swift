import Bytes
import Testing
import TestSupport
@testable import RESP

/// Parses `input` fed in pieces of `size` bytes: the replies and the error, if any.
func parseAll(_ input: [UInt8], size: Int? = nil, limits: RESPLimits = RESPLimits()) -> (replies: [RESPValue], error: RESPProtocolError?) {
    var parser = RESPParser(limits: limits)
    var replies: [RESPValue] = []
    var failure: RESPProtocolError?
    feedInChunks(input, size: size) { chunk in
        parser.feed(chunk)
        do throws(RESPProtocolError) { replies += try parser.drain() } catch { failure = error; return false }
        return true
    }
    return (replies, failure)
}

func parseAll(_ text: String, size: Int? = nil, limits: RESPLimits = RESPLimits()) -> (replies: [RESPValue], error: RESPProtocolError?) {
    parseAll(Array(text.utf8), size: size, limits: limits)
}

@Suite struct RESPParserTests {
    @Test func parsesEveryRESP2Type() {
        let result = parseAll("+OK\r\n-ERR no such key\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n")
        #expect(result.error == nil)
        #expect(result.replies == [.simple("OK"), .error("ERR no such key"), .integer(42), .integer(-7),
                                   .bulk(Array("hello".utf8)), .bulk([]), .bulk(nil), .array(nil), .array([])])
    }

    @Test func bulkStringsAreBinarySafe() {
        let payload: [UInt8] = [0, 13, 10, 255, 36, 42, 13]
        let input = Array("$7\r\n".utf8) + payload + [13, 10]
        #expect(parseAll(input).replies == [.bulk(payload)])
    }

    /// An XREAD reply: [[key, [[id, [field, value, …]], …]]].
    @Test func parsesANestedStreamReply() {
        let text = "*1\r\n*2\r\n$2\r\nlw\r\n*2\r\n*2\r\n$3\r\n7-0\r\n*4\r\n$5\r\nepoch\r\n$1\r\nE\r\n$8\r\nmessages\r\n$2\r\n[]\r\n*2\r\n$3\r\n8-0\r\n*0\r\n"
        let expected: RESPValue = .array([.array([.bulk(Array("lw".utf8)), .array([
            .array([.bulk(Array("7-0".utf8)), .array([.bulk(Array("epoch".utf8)), .bulk(Array("E".utf8)),
                                                      .bulk(Array("messages".utf8)), .bulk(Array("[]".utf8))])]),
            .array([.bulk(Array("8-0".utf8)), .array([])]),
        ])])])
        #expect(parseAll(text).replies == [expected])
    }

    @Test func everySplitGivesTheSameReplies() {
        let text = "+OK\r\n*2\r\n$3\r\nabc\r\n:12\r\n-WRONGTYPE x\r\n$-1\r\n*3\r\n*1\r\n+a\r\n$1\r\n\n\r\n:0\r\n"
        let whole = parseAll(text)
        #expect(whole.error == nil)
        #expect(whole.replies.count == 5)
        for size in 1...text.utf8.count {
            let split = parseAll(text, size: size)
            #expect(split.replies == whole.replies, "size \(size)")
            #expect(split.error == nil, "size \(size)")
        }
    }

    @Test func incompleteInputWaitsForMoreBytes() throws {
        var parser = RESPParser()
        parser.feed(Array("$5\r\nhel".utf8))
        #expect(try parser.next() == nil)
        parser.feed(Array("lo\r".utf8))
        #expect(try parser.next() == nil)
        parser.feed(Array("\n+".utf8))
        #expect(try parser.next() == .bulk(Array("hello".utf8)))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedCount == 1)
    }

    @Test(arguments: [
        "?what\r\n",                 // RESP3 or garbage type byte
        ":12a\r\n", ":\r\n", ":-\r\n", ":99999999999999999999\r\n", ": 1\r\n",
        "$-2\r\n", "$abc\r\n", "$3\r\nabcd\r\n", "$3\r\nabc\n\n",
        "*-2\r\n", "*x\r\n",
        "+OK\rX\r\n", "+OK\n",
    ])
    func malformedRepliesAreProtocolErrors(_ text: String) {
        let whole = parseAll(text)
        #expect(whole.error != nil, "\(text.debugDescription) was accepted: \(whole.replies)")
        for size in 1...text.utf8.count {
            #expect(parseAll(text, size: size).error == whole.error, "size \(size) of \(text.debugDescription)")
        }
    }

    @Test func aFailedParserKeepsFailingWithTheSameError() throws {
        var parser = RESPParser()
        parser.feed(Array("+fine\r\n!bad\r\n".utf8))
        #expect(try parser.next() == .simple("fine"))
        let first = #expect(throws: RESPProtocolError.self) { try parser.next() }
        parser.feed(Array("+OK\r\n".utf8))
        let second = #expect(throws: RESPProtocolError.self) { try parser.next() }
        #expect(first == second)
    }

    @Test func limitsAreJudgedAtTheBytesThatPassThem() {
        var limits = RESPLimits()
        limits.maxLineBytes = 8
        limits.maxBulkBytes = 4
        limits.maxArrayCount = 3
        limits.maxDepth = 3
        // A header line over the limit fails before its CRLF arrives, however it is split.
        let longLine = "+123456789"
        #expect(parseAll(longLine, limits: limits).error?.reason.contains("longer than 8") == true)
        for size in 1...longLine.utf8.count {
            #expect(parseAll(longLine, size: size, limits: limits).error == parseAll(longLine, limits: limits).error)
        }
        #expect(parseAll("+12345678\r\n", limits: limits).replies == [.simple("12345678")])
        #expect(parseAll("$5\r\n", limits: limits).error?.reason.contains("over the limit") == true)
        #expect(parseAll("$4\r\nabcd\r\n", limits: limits).replies == [.bulk(Array("abcd".utf8))])
        #expect(parseAll("*4\r\n", limits: limits).error?.reason.contains("over the limit") == true)
        #expect(parseAll("*1\r\n*1\r\n*1\r\n", limits: limits).error?.reason.contains("deeper") == true)
        #expect(parseAll("*1\r\n*1\r\n*1\r\n:1\r\n", limits: limits).error != nil)
        #expect(parseAll("*1\r\n*1\r\n*0\r\n", limits: limits).replies == [.array([.array([.array([])])])])
    }

    @Test func encodedValuesParseBackToThemselves() {
        var random = SeededRandom(seed: 15)
        func value(_ depth: Int) -> RESPValue {
            switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
            case 0: return .simple(String(repeating: "s", count: Int.random(in: 0..<5, using: &random)))
            case 1: return .error("ERR \(Int.random(in: 0..<100, using: &random))")
            case 2: return .integer(Int64.random(in: Int64.min + 1...Int64.max, using: &random))
            case 3: return .bulk((0..<Int.random(in: 0..<20, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            case 4: return Bool.random(using: &random) ? .bulk(nil) : .array(nil)
            default: return .array((0..<Int.random(in: 0..<4, using: &random)).map { _ in value(depth + 1) })
            }
        }
        for _ in 0..<300 {
            let values = (0..<Int.random(in: 1..<4, using: &random)).map { _ in value(0) }
            let bytes = values.flatMap(\.encoded)
            let size = Int.random(in: 1...max(bytes.count, 1), using: &random)
            let parsed = parseAll(bytes, size: size)
            #expect(parsed.error == nil)
            #expect(parsed.replies == values)
        }
    }
}

@Suite struct RESPCommandTests {
    @Test func commandsAreArraysOfBulkStrings() {
        #expect(RESPCommand(["XADD", "lw", "7-0", "epoch", "E"]).encoded
            == Array("*5\r\n$4\r\nXADD\r\n$2\r\nlw\r\n$3\r\n7-0\r\n$5\r\nepoch\r\n$1\r\nE\r\n".utf8))
        #expect(RESPCommand([[UInt8]]()).encoded == Array("*0\r\n".utf8))
        #expect(RESPCommand([[0, 13, 10]]).encoded == [42, 49, 13, 10, 36, 51, 13, 10, 0, 13, 10, 13, 10])
        #expect(RESPCommand(["auth", "secret"]).name == "AUTH")
    }
}
