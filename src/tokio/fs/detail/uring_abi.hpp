#pragma once
// The io_uring kernel ABI, as much of it as the fs engine uses: the setup parameters, the
// ring layout offsets, the 64-byte submission entry, the 16-byte completion entry, and the
// opcode / flag numbers. Spelled out here (not taken from <linux/io_uring.h>) so that the
// engine builds against old kernel headers and has no dependency beyond the kernel's stable
// ABI; the numbers are fixed by the kernel (include/uapi/linux/io_uring.h) and never change.
// x86_64 and aarch64 share the system call numbers 425/426/427.

#include <sys/syscall.h>

#include <cstdint>

namespace tokio::detail::uring {

#ifdef __NR_io_uring_setup
inline constexpr long kSysSetup = __NR_io_uring_setup;
inline constexpr long kSysEnter = __NR_io_uring_enter;
inline constexpr long kSysRegister = __NR_io_uring_register;
#else
inline constexpr long kSysSetup = 425;
inline constexpr long kSysEnter = 426;
inline constexpr long kSysRegister = 427;
#endif

struct SqringOffsets {
  uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
  uint64_t user_addr;
};
struct CqringOffsets {
  uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
  uint64_t user_addr;
};
struct Params {
  uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd;
  uint32_t resv[3];
  SqringOffsets sq_off;
  CqringOffsets cq_off;
};
static_assert(sizeof(Params) == 120);

// One submission queue entry (64 bytes). Only the fields the engine fills are named; the
// unions of the kernel's struct are reduced to the member each opcode reads.
struct Sqe {
  uint8_t opcode;
  uint8_t flags;  // kSqe* below
  uint16_t ioprio;
  int32_t fd;
  uint64_t off;       // offset; addr2 (second path, statx buffer) for the *at opcodes
  uint64_t addr;      // buffer or path
  uint32_t len;       // byte count; mode (openat, mkdirat); new dirfd (renameat, linkat)
  uint32_t op_flags;  // open_flags, statx_flags, rename/unlink/hardlink flags, fsync_flags,
                      // cancel_flags, rw_flags
  uint64_t user_data;
  uint16_t buf_index;
  uint16_t personality;
  uint32_t file_index;  // openat into / close of a direct descriptor: slot + 1
  uint64_t addr3;
  uint64_t pad2;
};
static_assert(sizeof(Sqe) == 64);

struct Cqe {
  uint64_t user_data;
  int32_t res;
  uint32_t flags;
};
static_assert(sizeof(Cqe) == 16);

// --- opcodes
inline constexpr uint8_t kOpNop = 0;
inline constexpr uint8_t kOpFsync = 3;
inline constexpr uint8_t kOpAsyncCancel = 14;
inline constexpr uint8_t kOpOpenat = 18;
inline constexpr uint8_t kOpClose = 19;
inline constexpr uint8_t kOpStatx = 21;
inline constexpr uint8_t kOpRead = 22;
inline constexpr uint8_t kOpWrite = 23;
inline constexpr uint8_t kOpRenameat = 35;
inline constexpr uint8_t kOpUnlinkat = 36;
inline constexpr uint8_t kOpMkdirat = 37;
inline constexpr uint8_t kOpSymlinkat = 38;
inline constexpr uint8_t kOpLinkat = 39;
inline constexpr uint8_t kOpFtruncate = 55;  // Linux 6.9
inline constexpr unsigned kOpLast = 64;      // probe table size we ask for

// --- sqe flags
inline constexpr uint8_t kSqeFixedFile = 1u << 0;
inline constexpr uint8_t kSqeIoLink = 1u << 2;
inline constexpr uint8_t kSqeIoHardlink = 1u << 3;
inline constexpr uint8_t kSqeAsync = 1u << 4;

// --- rw_flags (op_flags of a read or write)
// RWF_NOWAIT: fail with EAGAIN instead of waiting for data (or for the page cache to be
// filled). Honoured by io_uring reads since 5.1; a file that cannot read without waiting
// (procfs, sysfs) refuses the flag with EOPNOTSUPP. A reader must take either as "no
// answer", not as an error.
inline constexpr uint32_t kRwfNowait = 0x8;

// --- setup flags
inline constexpr uint32_t kSetupCqSize = 1u << 3;
inline constexpr uint32_t kSetupClamp = 1u << 4;
inline constexpr uint32_t kSetupSubmitAll = 1u << 7;

// --- features
inline constexpr uint32_t kFeatSingleMmap = 1u << 0;
inline constexpr uint32_t kFeatNodrop = 1u << 1;
inline constexpr uint32_t kFeatRwCurPos = 1u << 3;

// --- enter flags
inline constexpr uint32_t kEnterGetEvents = 1u << 0;

// --- sq ring flags
inline constexpr uint32_t kSqCqOverflow = 1u << 1;

// --- mmap offsets
inline constexpr uint64_t kOffSqRing = 0;
inline constexpr uint64_t kOffCqRing = 0x8000000ull;
inline constexpr uint64_t kOffSqes = 0x10000000ull;

// --- register opcodes
inline constexpr unsigned kRegisterFiles = 2;
inline constexpr unsigned kRegisterEventfd = 4;
inline constexpr unsigned kRegisterProbe = 8;
inline constexpr unsigned kRegisterFiles2 = 13;
inline constexpr unsigned kRegisterIowqMaxWorkers = 19;

inline constexpr uint32_t kRsrcRegisterSparse = 1u << 0;
struct RsrcRegister {
  uint32_t nr;
  uint32_t flags;
  uint64_t resv2;
  uint64_t data;
  uint64_t tags;
};

struct ProbeOp {
  uint8_t op;
  uint8_t resv;
  uint16_t flags;  // kProbeOpSupported
  uint32_t resv2;
};
inline constexpr uint16_t kProbeOpSupported = 1u << 0;
struct Probe {
  uint8_t last_op;
  uint8_t ops_len;
  uint16_t resv;
  uint32_t resv2[3];
  ProbeOp ops[kOpLast];
};

// --- per-opcode flags
inline constexpr uint32_t kFsyncDatasync = 1u << 0;
inline constexpr uint32_t kCancelAll = 1u << 0;
inline constexpr uint32_t kCancelAny = 1u << 2;  // match every request (Linux 5.19)

}  // namespace tokio::detail::uring
