// Running under `mpirun` (docs/cli.md, "Under mpirun"): the ranks of one neuroemu run and the few collectives the
// distributed commands need. Without mpirun the same binary is one process: rank 0 of 1, MPI never initialised, and
// every collective is the identity. Only the main thread calls MPI (MPI_THREAD_FUNNELED); worker threads stay
// inside a rank.
//
// Failure: a rank that throws never returns to a collective, so the others would wait forever. main() reports the
// error with the rank's number and calls abort(), which ends every rank (MPI_Abort); mpirun exits non-zero.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuroemu::mpi {

// True when this process was started by mpirun (OpenMPI's or a PMI launcher's environment variables).
bool launched();
// Initialises MPI when launched() (idempotent); the binary stays a single process otherwise.
void init(int& argc, char**& argv);
// Finalises MPI if init() initialised it.
void finalize();
// This process's rank and the number of ranks (0 and 1 without mpirun).
int rank();
int size();
inline bool root() { return rank() == 0; }
inline bool distributed() { return size() > 1; }
// "rank R of N" for messages (empty in a single process).
std::string where();
// Ends every rank with `code` after printing `message` (a single process just exits).
[[noreturn]] void abort(int code);

// Collectives: every rank must call them in the same order.
void barrier();
// Root receives every rank's bytes, in rank order (its own first); other ranks get an empty vector.
std::vector<std::string> gather(const std::string& bytes);
// Every rank receives every rank's bytes, in rank order.
std::vector<std::string> all_gather(const std::string& bytes);
// Every rank receives root's bytes.
std::string broadcast(const std::string& bytes);
// per_rank[r] goes to rank r; returns what each rank sent this one, by source rank.
std::vector<std::string> all_to_all(const std::vector<std::string>& per_rank);
int64_t all_min(int64_t v);
int64_t all_max(int64_t v);
int64_t all_sum(int64_t v);
// Every rank's flag or'ed (a rank that failed a local step tells the others, so that all of them stop cleanly).
bool any(bool flag);

// Items [first, last) of a contiguous block partition of `count` items over `ranks` (sizes differ by at most one,
// the larger blocks first).
struct Block {
    int64_t first = 0, last = 0;
    int64_t size() const { return last - first; }
};
Block block_of(int64_t count, int rank, int ranks);
inline Block my_block(int64_t count) { return block_of(count, rank(), size()); }

}  // namespace neuroemu::mpi
