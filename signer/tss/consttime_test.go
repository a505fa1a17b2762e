package tss

import "github.com/bnb-chain/tss-lib/v3/common"

func disableConstantTime() { common.DisableConstantTimeOps() }
func enableConstantTime()  { common.EnableConstantTimeOps() }
