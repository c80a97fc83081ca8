// Command k8sschema writes JSON schemas of the Kubernetes objects Lectern's
// manifests use, generated from the k8s.io/api types themselves, named as
// kubeconform looks them up ({{ .ResourceKind }}{{ .KindSuffix }}.json):
//
//	go run . -out DIR
//	kubeconform -strict -schema-location 'DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json' deploy/k8s/
//
// Every object is closed (additionalProperties: false, so a misspelt or
// misplaced field fails) and a field whose json tag has no omitempty is
// required (a Deployment without its selector fails). It lives in its own
// module so Lectern's go.mod never carries the Kubernetes types.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"reflect"

	"github.com/invopop/jsonschema"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// kinds are the objects the manifests may contain, by kubeconform file name.
var kinds = map[string]any{
	"deployment-apps-v1.json":            &appsv1.Deployment{},
	"service-v1.json":                    &corev1.Service{},
	"persistentvolumeclaim-v1.json":      &corev1.PersistentVolumeClaim{},
	"configmap-v1.json":                  &corev1.ConfigMap{},
	"secret-v1.json":                     &corev1.Secret{},
	"poddisruptionbudget-policy-v1.json": &policyv1.PodDisruptionBudget{},
}

// mapper gives the types that marshal themselves (not as their Go structs)
// the JSON they really take.
func mapper(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[resource.Quantity]():
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string"}, {Type: "number"}}}
	case reflect.TypeFor[intstr.IntOrString]():
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "integer"}, {Type: "string"}}}
	case reflect.TypeFor[metav1.Time](), reflect.TypeFor[metav1.MicroTime]():
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string", Format: "date-time"}, {Type: "null"}}}
	case reflect.TypeFor[metav1.Duration]():
		return &jsonschema.Schema{Type: "string"}
	case reflect.TypeFor[runtime.RawExtension](), reflect.TypeFor[metav1.FieldsV1]():
		return &jsonschema.Schema{} // any JSON value
	}
	return nil
}

func main() {
	out := flag.String("out", "", "directory to write the schemas to")
	flag.Parse()
	if *out == "" {
		log.Fatal("-out DIR is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	r := &jsonschema.Reflector{Mapper: mapper}
	for name, v := range kinds {
		s := r.Reflect(v)
		raw, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(*out, name), raw, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("k8sschema: %d schemas (k8s.io/api types) in %s\n", len(kinds), *out)
}
