package capture

import (
	"testing"

	"github.com/wspath/wspath/capture/pcapfile"
)

func TestViews_OfAndName(t *testing.T) {
	eth0 := &pcapfile.Interface{ID: 0, Name: "eth0"}
	eth1 := &pcapfile.Interface{ID: 1, Name: "eth1"}
	unnamed := &pcapfile.Interface{ID: 2}
	type pkt struct {
		iface   *pcapfile.Interface
		ifindex uint32
	}
	tests := []struct {
		name  string
		multi bool
		pkts  []pkt
		want  []string // the name of each packet's view
		views int      // distinct view numbers
	}{
		{"pcap", false, []pkt{{nil, 0}, {nil, 0}}, []string{"", ""}, 1},
		{"one_interface", false, []pkt{{eth0, 0}}, []string{""}, 1},
		{"sll2_any", false, []pkt{{eth0, 3}, {eth0, 4}, {eth0, 3}}, []string{"ifindex 3", "ifindex 4", "ifindex 3"}, 2},
		{"two_interfaces", true, []pkt{{eth0, 0}, {eth1, 0}, {eth1, 0}, {eth0, 0}},
			[]string{"eth0", "eth1", "eth1", "eth0"}, 2},
		{"second_declared_late", false, []pkt{{eth1, 0}, {eth0, 0}}, []string{"eth1", "eth0"}, 2},
		{"unnamed_and_sll2", true, []pkt{{unnamed, 7}, {unnamed, 8}, {eth0, 7}},
			[]string{"interface 2 ifindex 7", "interface 2 ifindex 8", "eth0 ifindex 7"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := views{multi: tt.multi}
			nums := map[uint32]bool{}
			var got []uint32
			for _, p := range tt.pkts {
				n := v.of(&pcapfile.Packet{Interface: p.iface}, p.ifindex)
				nums[n] = true
				got = append(got, n)
			}
			for i, n := range got {
				if s := v.name(n); s != tt.want[i] {
					t.Errorf("packet %d: view %#x named %q, want %q", i, n, s, tt.want[i])
				}
			}
			if len(nums) != tt.views {
				t.Errorf("%d views, want %d", len(nums), tt.views)
			}
		})
	}
}

func TestUnnameOneView(t *testing.T) {
	sess := func(names ...string) []*Session {
		var ss []*Session
		for _, n := range names {
			s := &Session{}
			s.SetInterface(n)
			ss = append(ss, s)
		}
		return ss
	}
	for _, tt := range []struct {
		in, want []string
	}{
		{[]string{"ifindex 2", "ifindex 2"}, []string{"", ""}},
		{[]string{"ifindex 2", "ifindex 3"}, []string{"ifindex 2", "ifindex 3"}},
		{[]string{"f0", "f1", "f0"}, []string{"f0", "f1", "f0"}},
		{[]string{"", ""}, []string{"", ""}},
		{nil, nil},
	} {
		ss := sess(tt.in...)
		unnameOneView(ss)
		for i, s := range ss {
			if s.Interface() != tt.want[i] {
				t.Errorf("%q: session %d named %q, want %q", tt.in, i, s.Interface(), tt.want[i])
			}
		}
	}
}
