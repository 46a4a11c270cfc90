import Testing
@testable import WebSocketCore
