// Durability of the storage thread's SQLite commits without the fsync on that thread.
//
// With `synchronous = FULL`, better-sqlite3's COMMIT returns only after SQLite fsynced the WAL:
// the one writer thread then sits in fdatasync for most of each group-commit cycle (a profile of
// the gate at ~5 000 req/s: the storage thread ~40 % of its wall time inside COMMIT, waiting),
// and nothing else it owes — the next batch, the worker's claims — can start meanwhile.
//
// So the storage thread's connection runs `synchronous = NORMAL`: a COMMIT writes its WAL frames
// to the OS and returns. Before any request of that batch is answered, `WalSync.sync()` runs
// fdatasync on the same WAL file through libuv's thread pool, and the storage thread goes on with
// the next batch while the disk works. fsync works on the file (the inode), not on the
// descriptor, so this flushes exactly what SQLite's own fsync would have: every frame written up
// to the COMMIT that preceded the call. A crash then recovers the WAL up to its last intact
// commit frame — frames are checksummed in a chain, so no later commit can survive an earlier
// lost one — and 200 still means on disk. Checkpoints keep their own syncs under NORMAL (WAL
// before copying, database file after), so a reset WAL never holds the only copy of an
// acknowledged commit.
//
// Syncs are coalesced: one runs at a time; callers that arrive while it runs share the next one,
// which starts when it ends — one fsync per cycle, however many batches committed meanwhile.
import { close, fdatasync, fstatSync, openSync, statSync } from 'node:fs';

export class WalSync {
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private failure: unknown;

  /** `fsync` is fs.fdatasync; tests pass one that fails. */
  constructor(
    private readonly walPath: string,
    private readonly fsync: (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void = fdatasync,
  ) {}

  /** Resolves once every commit that returned before this call is on disk. */
  sync(): Promise<void> {
    // After a failed fsync the kernel may have dropped the frames it could not write, and the WAL
    // is unreadable past them: no later commit may be acknowledged from this connection.
    if (this.failure !== undefined) return Promise.reject(this.failure);
    // Opened (or reopened, should the file have been replaced) now, on the thread that committed:
    // the WAL file that holds the commit just made is the one at this path.
    try {
      this.ensureOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    // A sync queued to start later covers this commit too.
    if (this.next !== undefined) return this.next;
    if (this.running === undefined) {
      this.running = this.flush();
      return this.running;
    }
    // The running sync may have started before this commit: wait for the next one.
    const after = () => this.startNext();
    this.next = this.running.then(after, after);
    return this.next;
  }

  close(): void {
    if (this.fd !== undefined) close(this.fd, () => {});
    this.fd = undefined;
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    this.running = this.flush();
    return this.running;
  }

  private flush(): Promise<void> {
    const fd = this.fd as number;
    return new Promise<void>((resolve, reject) => {
      this.fsync(fd, (err) => {
        this.running = undefined;
        if (err) this.failure ??= err;
        if (this.failure !== undefined) reject(this.failure);
        else resolve();
      });
    });
  }

  private ensureOpen(): void {
    if (this.fd !== undefined && fstatSync(this.fd).ino === statSync(this.walPath).ino) return;
    if (this.fd !== undefined) close(this.fd, () => {});
    // Read-only is enough for fdatasync, and can never write to SQLite's file.
    this.fd = openSync(this.walPath, 'r');
  }
}
