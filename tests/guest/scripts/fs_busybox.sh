# File commands of busybox on a fresh directory under /tmp: run natively
# and under tinyunix, the outputs must be the same (dates and the parent
# directory, which other programs change, are cut out).
B=/usr/bin/busybox
D=$($B mktemp -d /tmp/fsbbXXXXXX) || exit 1
cd $D || exit 1
lsl() { $B ls -la "$@" | $B grep -v -e ' \.\.$' -e '^total' | $B sed -E 's/ +/ /g' | $B cut -d' ' -f1,2,3,4,5,9-; }
$B mkdir -p a/b/c && echo hi > a/f && $B ln -s a/f sl && $B ln a/f hl
lsl . a
$B cat sl hl
$B mv a c && $B ls -R
$B touch -d '2020-01-02 03:04:05' c/t && $B ls -l --full-time c/t | $B sed -E 's/ +/ /g'
$B chmod 4751 c/t && $B ls -l c/t | $B cut -c1-10
$B chmod -R go-rwx c && lsl c
$B mkdir c/b/d; $B rmdir c/b; echo rmdir=$?
$B mv c/b c/b/d/e; echo mv-into-itself=$?
$B ln c c2; echo ln-dir=$?
$B cp -r c copy && $B find copy | $B sort
$B tar -cf t.tar copy && $B rm -r copy && $B tar -xf t.tar && $B find copy -type f | $B sort
$B rm -r c copy t.tar && lsl
$B mkfifo ff && $B ls -l ff | $B cut -c1-10
$B rm sl hl ff
$B ls -a
cd /
$B rmdir $D; $B ls $D 2>/dev/null; echo gone=$?
$B ls / | $B grep -c .
echo x >/dev/full; echo full=$?
$B test -x /etc/passwd; echo x-ok=$?
