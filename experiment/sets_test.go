package experiment

import (
	"strings"
	"testing"
)

// TestStandInData loads the CIFAR-10 and SVHN experiments' data from generated stand-ins (written in
// the real formats into $CONFCAL_DATA and read back by the real readers), and checks the fallback
// from missing real data.
func TestStandInData(t *testing.T) {
	t.Setenv("CONFCAL_DATA", t.TempDir())
	for _, spec := range []Spec{CIFAR10, SVHN} {
		cfg, err := spec.Config("train_n=40;test_n=30;ood_n=24;val_n=10")
		if err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		d, used, err := spec.LoadOrStandIn(cfg, &log)
		if err != nil {
			t.Fatal(err)
		}
		if !used.StandIn || !d.StandIn || !strings.Contains(log.String(), "GENERATED STAND-IN") || !strings.Contains(log.String(), "not at") {
			t.Errorf("%s: fallback not reported (StandIn %v/%v), log:\n%s", spec.Name, used.StandIn, d.StandIn, log.String())
		}
		other := map[string]string{"cifar10": OODSVHN, "svhn": OODCIFAR10}[spec.Name]
		if d.SeenName != other || d.OODNames[0] != other || len(d.OODNames) != 4 {
			t.Errorf("%s: seen %q, OOD %v", spec.Name, d.SeenName, d.OODNames)
		}
		if d.Train.N != 40 || d.Calib.N != 10 || d.Test.N != 20 || !strings.Contains(d.Train.Name, "standin") {
			t.Errorf("%s: train %d (%s), calib %d, test %d", spec.Name, d.Train.N, d.Train.Name, d.Calib.N, d.Test.N)
		}
		for _, n := range d.OODNames {
			if d.OODVal[n].N != 10 || d.OODTest[n].N != 14 {
				t.Errorf("%s: OOD %s has %d validation and %d test images, want 10 and 14", spec.Name, n, d.OODVal[n].N, d.OODTest[n].N)
			}
			if n != OODGaussian && !strings.Contains(d.OODTest[n].Name, "standin") {
				t.Errorf("%s: OOD %s is named %q, not marked as a stand-in", spec.Name, n, d.OODTest[n].Name)
			}
		}
		if spec.OutName(used) != spec.Name+"-quick-standin" {
			t.Errorf("OutName %q", spec.OutName(used))
		}
	}
	// Without the fallback, missing real data is an error naming what is missing.
	cfg, _ := CIFAR10.Config("")
	if _, err := CIFAR10.LoadData(cfg, nil); err == nil || !strings.Contains(err.Error(), "cifar-10-binary.tar.gz") {
		t.Errorf("missing real data: %v", err)
	}
}
