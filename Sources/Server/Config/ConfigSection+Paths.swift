import ConfigFiles

extension ConfigSection {
    /// A file or folder path, resolved against the config file's folder (see `ConfigPaths`).
    func filePath(_ key: String) throws(ConfigError) -> String? {
        try nonEmptyString(key).map { ConfigPaths.resolve($0, against: base) }
    }

    /// `nullableString` for a path, resolved like `filePath`.
    func nullableFilePath(_ key: String) throws(ConfigError) -> String?? {
        guard let value = try nullableString(key) else { return nil }
        return .some(value.map { ConfigPaths.resolve($0, against: base) })
    }
}
