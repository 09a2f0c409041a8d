# SPDX-License-Identifier: GPL-2.0-only
# Draws latest.png from the data files tests/bench/report.py writes:
#   gnuplot -e "dir='tests/bench/results'" tests/bench/plot.gp
if (!exists("dir")) dir = "."
set terminal pngcairo size 1500,650 font "sans,10" noenhanced
set output dir."/latest.png"
# A run without the throughput step (tests/bench/run --fine) has no rows there.
tput_rows = int(system("grep -vc '^#' '".dir."/tput.dat' || true"))
if (tput_rows > 0) set multiplot layout 1,2

set title "Cost per send, x baseline (median of paired rounds; guest under TCG)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "time per call / baseline"
set yrange [0:*]
set xtics rotate by -30 left
set key top left
set grid ytics
plot dir."/cost.dat" using 2:xtic(1) title "msgsnd+msgrcv pair" lc rgb "#4477aa", \
     "" using 3 title "msgsnd, receiver drains" lc rgb "#ee6677", \
     1 notitle dt 2 lc rgb "black"

if (tput_rows == 0) exit
set title "Throughput with msgtapd: flat-out senders for the whole run"
set xtics norotate
set ylabel "events delivered per second"
set y2label "msgtapd CPU s per million events"
set y2tics
set yrange [0:*]
set y2range [0:*]
set xlabel "senders (guest has 2 vCPUs)"
plot dir."/tput.dat" using 2:xtic(1) title "events/s" lc rgb "#228833", \
     "" using 0:2:(sprintf("lost %d", $3)) with labels offset 0,1 notitle, \
     "" using 0:4 axes x1y2 with linespoints pt 7 lw 2 lc rgb "#aa3377" title "msgtapd CPU s / M events"
unset multiplot
