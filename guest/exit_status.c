/* exit_status: prints nothing and exits with status 42 via exit(3). */
#include <stdlib.h>

int main(void)
{
	exit(42);
}
