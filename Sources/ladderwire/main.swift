import Foundation
import Server

exit(LadderwireCommand.main(CommandLine.arguments))
