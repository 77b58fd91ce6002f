import Foundation

/// The size of a regular file, nil when it has none to tell (stdin, a pipe, gone).
/// `stat` itself: FileManager's attributes also look up the owner's and group's names through
/// NSS (/etc/passwd, /etc/group) on every call, work no size needs.
func regularFileSize(_ path: String) -> Int64? {
  guard path != "-" else { return nil }
  var st = stat()
  guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
  return Int64(st.st_size)
}
