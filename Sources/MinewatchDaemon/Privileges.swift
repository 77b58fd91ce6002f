import Foundation

/// Drops root to a named user once the capture is open: groups first, then gid, then uid, and
/// a check that root cannot be taken back.
enum Privileges {
  static func drop(to user: String) throws {
    guard let pw = getpwnam(user) else { throw MinewatchDaemonError.setup("user: no user named '\(user)'") }
    let uid = pw.pointee.pw_uid
    let gid = pw.pointee.pw_gid
    var groups = [gid]
    guard setgroups(1, &groups) == 0, setgid(gid) == 0, setuid(uid) == 0 else {
      throw MinewatchDaemonError.setup("user: cannot become '\(user)': \(String(cString: strerror(errno)))")
    }
    guard uid == 0 || setuid(0) != 0 else {
      throw MinewatchDaemonError.setup("user: still able to regain root after dropping to '\(user)'")
    }
  }
}
