#include "mpi/world.h"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "common/error.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

namespace neuroemu::mpi {

namespace {

// Under AddressSanitizer, what MPI allocates inside its calls is MPI's business: OpenMPI never frees some of it,
// and the stacks of plugins it has unloaded cannot be named in suppressions. LeakSanitizer ignores allocations
// made between __lsan_disable and __lsan_enable on this thread (only the main thread calls MPI).
#if defined(__SANITIZE_ADDRESS__)
struct MpiAllocations {
    MpiAllocations() { __lsan_disable(); }
    ~MpiAllocations() { __lsan_enable(); }
    MpiAllocations(const MpiAllocations&) = delete;
    MpiAllocations& operator=(const MpiAllocations&) = delete;
};
#else
struct MpiAllocations {
    MpiAllocations() {}  // (user-provided: a scope guard, not an unused variable)
};
#endif

bool initialised_here = false;
int my_rank = 0, my_size = 1;
bool fault_checked = false;

// Fault injection for the tests (docs/cli.md): NEUROEMU_FAULT_RANK=R makes rank R fail at its first collective,
// as a rank that hits an error in the middle of a run would.
void maybe_inject_fault() {
    if (fault_checked) return;
    fault_checked = true;
    const char* r = std::getenv("NEUROEMU_FAULT_RANK");
    if (r && *r && std::atoi(r) == my_rank && my_size > 1)
        throw Error(fmt::format("fault injected by NEUROEMU_FAULT_RANK={} (rank {} of {})", r, my_rank, my_size));
}

void check(int rc, const char* what) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw Error(fmt::format("MPI {} failed on rank {}: {}", what, my_rank, std::string(text, static_cast<size_t>(len))));
}

// Messages go in pieces of at most 1 GiB (MPI counts are int).
constexpr int64_t kPiece = int64_t{1} << 30;

void send_bytes(const std::string& s, int to) {
    for (int64_t off = 0; off < static_cast<int64_t>(s.size()); off += kPiece) {
        const int n = static_cast<int>(std::min<int64_t>(kPiece, static_cast<int64_t>(s.size()) - off));
        check(MPI_Send(s.data() + off, n, MPI_BYTE, to, 7, MPI_COMM_WORLD), "send");
    }
}

void recv_bytes(std::string& s, int64_t size, int from) {
    s.resize(static_cast<size_t>(size));
    for (int64_t off = 0; off < size; off += kPiece) {
        const int n = static_cast<int>(std::min<int64_t>(kPiece, size - off));
        check(MPI_Recv(s.data() + off, n, MPI_BYTE, from, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receive");
    }
}

int64_t reduce(int64_t v, MPI_Op op) {
    if (my_size == 1) return v;
    maybe_inject_fault();
    const MpiAllocations mpi_owned;
    long long in = v, out = 0;
    check(MPI_Allreduce(&in, &out, 1, MPI_LONG_LONG, op, MPI_COMM_WORLD), "allreduce");
    return out;
}

std::vector<int64_t> all_sizes(int64_t mine) {
    std::vector<long long> sizes(static_cast<size_t>(my_size));
    long long m = mine;
    check(MPI_Allgather(&m, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD), "allgather");
    return {sizes.begin(), sizes.end()};
}

}  // namespace

bool launched() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
        if (std::getenv(v)) return true;
    return false;
}

void init(int& argc, char**& argv) {
    if (initialised_here || !launched()) return;
#if defined(__SANITIZE_ADDRESS__)
    // Keep MPI's and PMIx's plugins loaded, so that LeakSanitizer can name the libraries whose MPI_Init allocations
    // are never freed (tests/lsan.supp).
    setenv("OMPI_MCA_mca_base_component_disable_dlclose", "1", 0);
    setenv("PMIX_MCA_mca_base_component_disable_dlclose", "1", 0);
#endif
    const MpiAllocations mpi_owned;
    int provided = 0;
    check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "init");
    initialised_here = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &my_size);
}

void finalize() {
    if (!initialised_here) return;
#if defined(__SANITIZE_ADDRESS__)
    __lsan_do_leak_check();  // neuroemu's own leaks; what MPI_Finalize leaves behind is MPI's
#endif
    const MpiAllocations mpi_owned;
    MPI_Finalize();
    initialised_here = false;
}

int rank() { return my_rank; }
int size() { return my_size; }
std::string where() { return my_size > 1 ? fmt::format("rank {} of {}: ", my_rank, my_size) : std::string(); }

void abort(int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    if (initialised_here && my_size > 1) {
        const MpiAllocations mpi_owned;
        MPI_Abort(MPI_COMM_WORLD, code);
    }
    std::exit(code);
}

void barrier() {
    if (my_size == 1) return;
    maybe_inject_fault();
    const MpiAllocations mpi_owned;
    check(MPI_Barrier(MPI_COMM_WORLD), "barrier");
}

std::vector<std::string> gather(const std::string& bytes) {
    if (my_size == 1) return {bytes};
    maybe_inject_fault();
    const MpiAllocations mpi_owned;
    const std::vector<int64_t> sizes = all_sizes(static_cast<int64_t>(bytes.size()));
    if (my_rank != 0) {
        send_bytes(bytes, 0);
        return {};
    }
    std::vector<std::string> out(static_cast<size_t>(my_size));
    out[0] = bytes;
    for (int r = 1; r < my_size; ++r) recv_bytes(out[static_cast<size_t>(r)], sizes[static_cast<size_t>(r)], r);
    return out;
}

std::vector<std::string> all_gather(const std::string& bytes) {
    if (my_size == 1) return {bytes};
    maybe_inject_fault();
    const MpiAllocations mpi_owned;
    std::vector<std::string> out(static_cast<size_t>(my_size));
    for (int r = 0; r < my_size; ++r) {  // each rank's bytes broadcast from it: ranks hold few, large messages
        std::string b = r == my_rank ? bytes : std::string();
        long long n = static_cast<long long>(b.size());
        check(MPI_Bcast(&n, 1, MPI_LONG_LONG, r, MPI_COMM_WORLD), "broadcast");
        b.resize(static_cast<size_t>(n));
        for (int64_t off = 0; off < n; off += kPiece)
            check(MPI_Bcast(b.data() + off, static_cast<int>(std::min<int64_t>(kPiece, n - off)), MPI_BYTE, r, MPI_COMM_WORLD),
                  "broadcast");
        out[static_cast<size_t>(r)] = std::move(b);
    }
    return out;
}

std::string broadcast(const std::string& bytes) {
    if (my_size == 1) return bytes;
    maybe_inject_fault();
    const MpiAllocations mpi_owned;
    std::string b = my_rank == 0 ? bytes : std::string();
    long long n = static_cast<long long>(b.size());
    check(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "broadcast");
    b.resize(static_cast<size_t>(n));
    for (int64_t off = 0; off < n; off += kPiece)
        check(MPI_Bcast(b.data() + off, static_cast<int>(std::min<int64_t>(kPiece, n - off)), MPI_BYTE, 0, MPI_COMM_WORLD),
              "broadcast");
    return b;
}

std::vector<std::string> all_to_all(const std::vector<std::string>& per_rank) {
    if (static_cast<int>(per_rank.size()) != my_size) throw InternalError("mpi::all_to_all: one message per rank");
    if (my_size == 1) return per_rank;
    maybe_inject_fault();
    const MpiAllocations mpi_owned;
    std::vector<long long> send_n(static_cast<size_t>(my_size)), recv_n(static_cast<size_t>(my_size));
    for (int r = 0; r < my_size; ++r) send_n[static_cast<size_t>(r)] = static_cast<long long>(per_rank[static_cast<size_t>(r)].size());
    check(MPI_Alltoall(send_n.data(), 1, MPI_LONG_LONG, recv_n.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD), "alltoall");
    std::vector<std::string> out(static_cast<size_t>(my_size));
    std::vector<MPI_Request> requests;
    for (int r = 0; r < my_size; ++r) {
        const auto ur = static_cast<size_t>(r);
        if (r == my_rank) {
            out[ur] = per_rank[ur];
            continue;
        }
        if (recv_n[ur] > std::numeric_limits<int>::max() || send_n[ur] > std::numeric_limits<int>::max())
            throw Error("mpi::all_to_all: a message of 2 GiB or more");
        out[ur].resize(static_cast<size_t>(recv_n[ur]));
        requests.emplace_back();
        check(MPI_Irecv(out[ur].data(), static_cast<int>(recv_n[ur]), MPI_BYTE, r, 9, MPI_COMM_WORLD, &requests.back()),
              "receive");
    }
    for (int r = 0; r < my_size; ++r) {
        if (r == my_rank) continue;
        requests.emplace_back();
        check(MPI_Isend(per_rank[static_cast<size_t>(r)].data(), static_cast<int>(send_n[static_cast<size_t>(r)]), MPI_BYTE, r,
                        9, MPI_COMM_WORLD, &requests.back()),
              "send");
    }
    check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "wait");
    return out;
}

int64_t all_min(int64_t v) { return reduce(v, MPI_MIN); }
int64_t all_max(int64_t v) { return reduce(v, MPI_MAX); }
int64_t all_sum(int64_t v) { return reduce(v, MPI_SUM); }
bool any(bool flag) { return reduce(flag ? 1 : 0, MPI_MAX) != 0; }

Block block_of(int64_t count, int r, int ranks) {
    const int64_t base = count / ranks, extra = count % ranks;
    Block b;
    b.first = r * base + std::min<int64_t>(r, extra);
    b.last = b.first + base + (r < extra ? 1 : 0);
    return b;
}

}  // namespace neuroemu::mpi
