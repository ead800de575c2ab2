/* hello: the smallest guest -- stdio through write(2), exit status 3. */
#include <stdio.h>

int main(void)
{
	printf("hello, world\n");
	return 3;
}
