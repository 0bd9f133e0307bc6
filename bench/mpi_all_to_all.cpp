// The collective of the space-parallel chip alone (bench/mpi_space.sh): microseconds per all-to-all of 250 bytes
// per rank pair, done as mpi::all_to_all does it (the sizes, then the bytes), averaged over 20,000 rounds.
#include <mpi.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int rounds = 20000, bytes = 250;
    const std::string payload(bytes, 'x');
    std::vector<long long> send_n(static_cast<size_t>(size), bytes), recv_n(static_cast<size_t>(size));
    std::vector<std::string> in(static_cast<size_t>(size));
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    for (int k = 0; k < rounds; ++k) {
        MPI_Alltoall(send_n.data(), 1, MPI_LONG_LONG, recv_n.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD);
        std::vector<MPI_Request> requests;
        for (int r = 0; r < size; ++r) {
            if (r == rank) continue;
            in[static_cast<size_t>(r)].resize(static_cast<size_t>(recv_n[static_cast<size_t>(r)]));
            requests.emplace_back();
            MPI_Irecv(in[static_cast<size_t>(r)].data(), static_cast<int>(recv_n[static_cast<size_t>(r)]), MPI_BYTE, r, 9,
                      MPI_COMM_WORLD, &requests.back());
        }
        for (int r = 0; r < size; ++r) {
            if (r == rank) continue;
            requests.emplace_back();
            MPI_Isend(payload.data(), bytes, MPI_BYTE, r, 9, MPI_COMM_WORLD, &requests.back());
        }
        MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
    }
    const double seconds = MPI_Wtime() - start;
    if (rank == 0) std::printf("%d ranks: %.1f us per all-to-all of %d bytes per rank pair\n", size, 1e6 * seconds / rounds, bytes);
    MPI_Finalize();
    return 0;
}
