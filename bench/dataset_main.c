/* ffibench_dataset DIR — writes the data folder every harness reads (dataset.h). */
#include "dataset.h"

#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  return wl_data_create(argv[1]) == 0 ? 0 : 1;
}
