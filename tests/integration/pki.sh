# Test credentials made fresh for each run with the openssl CLI: a CA, certificates
# for the collector and the probe, one from a foreign CA, one expired, one revoked (and
# the CA's CRL that says so, crl.pem); and PSK files.
# Sourced by tests; writes into $1.
make_pki() {
	local d=$1
	mkdir -p "$d/ca-db"
	(
		cd "$d" || exit 1
		touch ca-db/index.txt
		echo 1000 >ca-db/serial
		cat >ca.cnf <<'CNF'
[ ca ]
default_ca = test_ca
[ test_ca ]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[ anything ]
commonName = supplied
CNF
		for ca in ca other-ca; do
			openssl ecparam -name prime256v1 -genkey -noout -out $ca.key
			openssl req -x509 -new -key $ca.key -sha256 -days 3650 -subj "/CN=dpfix test $ca" -out $ca.pem
		done
		# name:CA:validity
		for spec in collector:ca:now probe:ca:now foreign:other-ca:now expired:ca:past revoked:ca:now; do
			IFS=: read -r name ca when <<<"$spec"
			cn=$name.example
			case $name in foreign | expired | revoked) cn=probe.example ;; esac
			openssl ecparam -name prime256v1 -genkey -noout -out $name.key
			openssl req -new -key $name.key -subj "/CN=$cn" \
				-addext "subjectAltName=DNS:$cn,IP:127.0.0.1" -out $name.csr
			if [ "$when" = past ]; then
				dates=(-startdate 20200101000000Z -enddate 20210101000000Z)
			else
				dates=(-days 30)
			fi
			openssl ca -config ca.cnf -batch -notext -cert $ca.pem -keyfile $ca.key \
				-in $name.csr "${dates[@]}" -out $name.pem
		done
		openssl ca -config ca.cnf -batch -cert ca.pem -keyfile ca.key -revoke revoked.pem
		openssl ca -config ca.cnf -batch -cert ca.pem -keyfile ca.key -gencrl -crldays 30 -out crl.pem
		printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >probe.psk
		printf 'probe1.example:000102030405060708090a0b0c0d0e0f\nprobe2.example:f0e0d0c0b0a090807060504030201000\n' >collector.psk
		printf 'probe1.example:ffffffffffffffffffffffffffffffff\n' >wrong.psk
		printf 'stranger.example:000102030405060708090a0b0c0d0e0f\n' >stranger.psk
		chmod 600 ./*.psk
	) >"$d/pki.log" 2>&1 || { cat "$d/pki.log" >&2; return 1; }
}
