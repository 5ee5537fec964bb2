# Free loopback ports for the servers that tests, benchmarks and the demo
# start (sourced, not run). A port is taken below the kernel's ephemeral
# range, where outgoing connections get their local ports, and reserved
# with an atomic mkdir, so scripts running in parallel never pick the same
# one. Call release_ports when done (a cleanup trap).

SMIMP_PORT_DIR=${TMPDIR:-/tmp}/smimp-ports

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port: prints a free port, reserved for this shell ($$).
pick_port() {
	local lo=32768 hi p
	read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[[ $lo -gt 12000 ]] || lo=32768
	mkdir -p "$SMIMP_PORT_DIR"
	# Reservations left by killed scripts expire after six hours.
	find "$SMIMP_PORT_DIR" -mindepth 1 -maxdepth 1 -mmin +360 \
		-exec rm -rf {} + 2>/dev/null || true
	for _ in $(seq 1 200); do
		p=$((10000 + RANDOM % (lo - 10000)))
		mkdir "$SMIMP_PORT_DIR/$p" 2>/dev/null || continue
		if port_in_use "$p"; then
			rm -rf "${SMIMP_PORT_DIR:?}/$p"
			continue
		fi
		echo "$$" > "$SMIMP_PORT_DIR/$p/owner"
		echo "$p"
		return 0
	done
	return 1
}

# release_ports: frees the ports this shell reserved.
release_ports() {
	local d
	for d in "$SMIMP_PORT_DIR"/*/; do
		[[ -f $d/owner && $(cat "$d/owner" 2>/dev/null) == "$$" ]] &&
			rm -rf "$d"
	done
	return 0
}
