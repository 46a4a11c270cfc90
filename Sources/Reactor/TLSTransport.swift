import Bytes
import Glibc

/// The TLS side of a connection's I/O: the same loop turn, readiness and queue as plain TCP, with
/// `SSL_read`/`SSL_write` in place of `read`/`writev`.
extension Connection {
    /// Largest TLS record payload: one coalesced record per `SSL_write`.
    static let tlsRecordSize = 16 * 1024

    /// Drives the handshake if it is still going, then writes queued bytes as coalesced records.
    func flushTLS(_ tls: TLSSession) -> Bool {
        if tls.isHandshaking || tls.writeWantsRead { return true }   // the read side drives both
        var budget = 64   // records per flush, as with writev calls
        while budget > 0 {
            budget -= 1
            if !tls.stalledRecord.isEmpty {
                let outcome = tls.stalledRecord.withUnsafeBytes { tls.write($0) }
                switch outcome {
                case .transferred(let written):
                    tls.stalledRecord.removeFirst(written)
                    countWritten(written)
                    continue
                case .wantWrite: return true
                case .wantRead:
                    tls.writeWantsRead = true
                    return true
                case .closed, .failed: return false
                }
            }
            guard !outbound.isEmpty else { return true }
            let outcome = loop.withRecordScratch { record -> (TLSSession.Outcome, Int) in
                let length = outbound.copyPrefix(into: record)
                let outcome = tls.write(UnsafeRawBufferPointer(rebasing: record[0..<length]))
                if outcome == .wantWrite || outcome == .wantRead {
                    // OpenSSL holds this record now; keep an exact copy for the retry.
                    tls.stalledRecord = Array(UnsafeRawBufferPointer(rebasing: record[0..<length]))
                    outbound.consume(length)
                }
                return (outcome, length)
            }
            switch outcome.0 {
            case .transferred(let written):
                outbound.consume(written)
                countWritten(written)
            case .wantWrite: return true
            case .wantRead:
                tls.writeWantsRead = true
                return true
            case .closed, .failed: return false
            }
        }
        return true
    }

    private func countWritten(_ count: Int) {
        bytesOut += count
        loop.bytesOut += count
    }
}

extension EventLoop {
    /// Handshake first; then decrypted bytes go to the handler exactly like plain reads.
    func readTLS(_ connection: Connection, _ tls: TLSSession) {
        if tls.isHandshaking {
            switch tls.handshake() {
            case .transferred:
                connection.lastActivity = Monotonic.now()
                if connection.hasUnsentOutput { markPendingWrite(connection) }
            case .wantRead:
                tls.handshakeWantsWrite = false
                updateInterest(connection)
                return
            case .wantWrite:
                tls.handshakeWantsWrite = true
                updateInterest(connection)
                return
            case .closed:
                connection.close()
                return
            case .failed(let plainHTTP):
                tlsHandshakeFailures += 1
                if plainHTTP { answerPlainHTTP(connection) } else { connection.close() }
                return
            }
        }
        tls.readWantsWrite = false
        var budget = options.readBudgetPerTurn
        reading: while budget > 0 && !connection.isClosed {
            let outcome = withReadScratch { tls.read(into: $0) }
            switch outcome {
            case .transferred(let n):
                budget -= n
                deliver(n, to: connection)
            case .wantRead:
                break reading
            case .wantWrite:
                tls.readWantsWrite = true
                break reading
            case .closed, .failed:
                connection.close()
                return
            }
        }
        guard !connection.isClosed else { return }
        if budget <= 0 && tls.hasBufferedInput { markPendingRead(connection) }
        if tls.writeWantsRead {
            tls.writeWantsRead = false
            markPendingWrite(connection)
        }
        updateInterest(connection)
    }

    /// Plain HTTP on the TLS port: OpenSSL recognised a request line instead of a ClientHello.
    /// Answer in clear text so a curl or browser user sees why, then close like any HTTP error.
    private func answerPlainHTTP(_ connection: Connection) {
        connection.tls = nil
        connection.send(Self.plainHTTPOnTLSPort)
        connection.closeAfterFlush(within: 1)
    }

    static let plainHTTPOnTLSPort: [UInt8] = {
        let body = "this port speaks TLS: use https:// or wss://\n"
        return Array("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
    }()
}
