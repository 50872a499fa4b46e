/*
 * The floor for hashing many files on this machine: N threads take files
 * from a shared counter, map each one (faulted in, as mtrun maps a file
 * that fits in one window), hash it with OpenSSL's SHA-256 and unmap it.
 * No ordering, no output, no error handling: what is left of the gap
 * between `openssl speed` x CPUs and this program is the kernel's cost of
 * opening and mapping files, which no file hasher avoids.
 *
 *   floor THREADS FILE...
 *   find DIR -type f -print0 | floor THREADS -
 */
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char **files;
static int file_count;
static int next_file;

static void *hash_files(void *unused)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	(void)unused;
	for (;;) {
		int i = __atomic_fetch_add(&next_file, 1, __ATOMIC_RELAXED);
		if (i >= file_count)
			break;
		int fd = open(files[i], O_RDONLY);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0) {
			perror(files[i]);
			exit(1);
		}
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		if (st.st_size > 0) {
			void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (p == MAP_FAILED) {
				perror("mmap");
				exit(1);
			}
			EVP_DigestUpdate(ctx, p, st.st_size);
			munmap(p, st.st_size);
		}
		EVP_DigestFinal_ex(ctx, digest, &digest_len);
		close(fd);
	}
	EVP_MD_CTX_free(ctx);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s THREADS FILE...\n", argv[0]);
		return 2;
	}
	int threads = atoi(argv[1]);
	if (threads < 1 || threads > 256) {
		fprintf(stderr, "%s: bad thread count\n", argv[0]);
		return 2;
	}
	files = argv + 2;
	file_count = argc - 2;
	if (file_count == 1 && files[0][0] == '-' && files[0][1] == 0) {
		/* NUL-separated paths on standard input. */
		size_t cap = 1024, len = 0;
		char *line = NULL;
		size_t line_cap = 0;
		files = malloc(cap * sizeof *files);
		while (getdelim(&line, &line_cap, 0, stdin) > 0) {
			if (len == cap)
				files = realloc(files, (cap *= 2) * sizeof *files);
			files[len++] = strdup(line);
		}
		file_count = (int)len;
	}
	pthread_t tids[256];
	for (int t = 0; t < threads; t++)
		pthread_create(&tids[t], NULL, hash_files, NULL);
	for (int t = 0; t < threads; t++)
		pthread_join(tids[t], NULL);
	return 0;
}
